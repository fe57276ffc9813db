// What each server must reach on its way out, from the spec: the container registry (application servers), the
// SMTP server and the alert webhooks (every server sends alerts), and the package mirror (security updates), which
// the server names itself (its apt proxy, else its first source). Tried with bash's /dev/tcp, so a server needs
// nothing it does not already have. Pure.
import type { Spec } from '../config/schema.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { cmd } from '../remote/shell.js';

export interface EgressTarget {
  /** registry, smtp, webhook, slack, mirror. */
  name: string;
  host: string;
  port: number;
}

/** host:port of a registry as the spec names it; Docker Hub's name is not the host its pulls go to. */
export function registryEndpoint(host: string, insecure: boolean): { host: string; port: number } {
  if (host === 'docker.io' || host === 'index.docker.io') return { host: 'registry-1.docker.io', port: 443 };
  const m = /^(.+):(\d+)$/.exec(host);
  return m ? { host: m[1] as string, port: Number(m[2]) } : { host, port: insecure ? 80 : 443 };
}

/** host:port of a webhook URL; only those leave this function, never the path (it often holds the token). */
export function urlEndpoint(url: string): { host: string; port: number } | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return { host: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
  } catch {
    return undefined;
  }
}

export function egressTargets(
  spec: Spec,
  kind: 'application' | 'backup' | 'jump',
  webhooks: { name: string; url: string }[],
): EgressTarget[] {
  const out: EgressTarget[] = [];
  if (kind === 'application')
    out.push({ name: 'registry', ...registryEndpoint(spec.registry.host, spec.registry.insecure) });
  if (spec.smtp) out.push({ name: 'smtp', host: spec.smtp.host, port: spec.smtp.port });
  for (const w of webhooks) {
    const e = urlEndpoint(w.url);
    if (e) out.push({ name: w.name, ...e });
  }
  return out;
}

/**
 * Each argument `name=host:port` is tried with a 5-second limit; `mirror` is found on the server. One line per
 * target: `egress <name> <host> <port> ok|fail <why>`.
 */
export const EGRESS_SCRIPT = `set -u
try() {
  local why
  # The host and port reach the inner shell as its arguments, never as part of its script.
  if why=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' crvs-egress "$2" "$3" 2>&1); then echo "egress $1 $2 $3 ok"
  else echo "egress $1 $2 $3 fail \${why:-no answer within 5 s}" | head -1 | sed 's/ crvs-egress: / /; s/line [0-9]*: //; s/connect: //'
  fi
}
proxy=$(apt-config dump Acquire::http::Proxy 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\\(.*\\)";$/\\1/p' | head -1)
uri=\${proxy:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -oE 'https?://[^ ]+' | head -1)}
if [ -n "$uri" ]; then
  hostport=$(echo "$uri" | sed -E 's#^[a-z]+://([^/]+).*#\\1#')
  host=\${hostport%:*}; port=\${hostport##*:}
  [ "$port" = "$hostport" ] && { case "$uri" in https:*) port=443;; *) port=80;; esac; }
  try mirror "$host" "$port"
fi
for t in "$@"; do
  name=\${t%%=*}; hp=\${t#*=}
  try "$name" "\${hp%:*}" "\${hp##*:}"
done
`;

/** A host name or IPv4 address and nothing else: the script splits its words on `=` and `:`. */
const PLAIN_HOST = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

export const egressCommand = (host: RemoteHost, targets: EgressTarget[]) =>
  onHost(
    host,
    cmd(
      'bash',
      '-s',
      '--',
      ...targets.filter((t) => PLAIN_HOST.test(t.host)).map((t) => `${t.name}=${t.host}:${t.port}`),
    ),
    {
      stdin: EGRESS_SCRIPT,
      description: `try the way out of a server of ${host.environment}`,
      allowFailure: true,
      timeoutMs: 120_000,
    },
  );

export interface EgressResult {
  name: string;
  host: string;
  port: number;
  ok: boolean;
  detail: string;
}

export function parseEgress(stdout: string): EgressResult[] {
  return stdout
    .split('\n')
    .map((line) => /^egress (\S+) (\S+) (\d+) (ok|fail) ?(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      name: m[1] as string,
      host: m[2] as string,
      port: Number(m[3]),
      ok: m[4] === 'ok',
      detail: (m[5] ?? '').trim(),
    }));
}
