// The layers of docs/architecture.md, checked on every lint: imports go one way
//   cli -> usecases -> builders (deploy, provision, github, ci, backup, secrets) and config -> core
// (remote, report, errors, paths), production code never imports the lab (a use case of its own that only its
// own commands know), and there are no cycles.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle means two modules cannot be understood, tested or moved apart.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lab-is-its-own-use-case',
      severity: 'error',
      comment:
        'Only the lab and demo commands know the lab; deploy, provision, secrets... work on real servers.',
      from: { path: '^src/', pathNot: '^src/(lab/|cli/lab\\.ts$|cli/demo\\.ts$)' },
      to: { path: '^src/lab/' },
    },
    {
      name: 'only-cli-imports-cli',
      severity: 'error',
      comment: 'The CLI parses, builds a context, calls a use case and prints; nothing below it knows it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'use-cases-are-called-not-calling-up',
      severity: 'error',
      comment: 'Builders and the core return data and run commands; they never call a use case.',
      from: { path: '^src/', pathNot: '^src/(cli|usecases)/' },
      to: { path: '^src/usecases/' },
    },
    {
      name: 'config-is-the-model',
      severity: 'error',
      comment:
        'The crvs.yaml model depends on nothing but the core: builders read it, not the other way round.',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config/|errors\\.ts$|paths\\.ts$)' },
    },
    {
      name: 'core-stays-core',
      severity: 'error',
      comment:
        'remote/, report/ and the error and path modules know no capability (secrets only for redaction).',
      from: { path: '^src/(remote|report)/|^src/(errors|paths)\\.ts$' },
      to: {
        path: '^src/',
        pathNot: '^src/(remote/|report/|errors\\.ts$|paths\\.ts$|secrets/sensitive\\.ts$)',
      },
    },
    {
      name: 'plan-is-pure-computation',
      severity: 'error',
      comment: "Sizing computes values from the model; printing them is the CLI's job.",
      from: { path: '^src/plan/' },
      to: { path: '^src/', pathNot: '^src/(plan/|config/|errors\\.ts$)' },
    },
    {
      name: 'builders-do-not-lean-on-each-other-sideways',
      severity: 'error',
      comment:
        'A capability (deploy, provision, github, ci, backup) builds on config and the core, not on another one.',
      from: { path: '^src/(deploy|provision|github|ci|backup)/' },
      to: {
        path: '^src/(deploy|provision|github|ci|backup)/',
        pathNot: ['^src/$1/'],
      },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
