// How a GitHub-hosted runner reaches the servers, per `connection` in the spec. Each recipe adds system packages
// to the install step, steps before crvs runs (connect) and `if: always()` steps after it (disconnect).
import type { Spec } from '../config/schema.js';
import { expr, type Step, script } from './steps.js';

export interface ConnectionRecipe {
  /** What the recipe does, for a comment in the workflow. */
  summary: string;
  packages: string[];
  connect: Step[];
  disconnect: Step[];
}

/** Secret names used when the spec names none (the schema rules require them, but the builder stays total). */
export const DEFAULT_VPN_SECRETS = {
  username: 'VPN_USER',
  password: 'VPN_PASSWORD',
  config: 'WIREGUARD_CONFIG',
} as const;

/** Network interface the runner's tunnel gets, for openconnect and WireGuard alike. */
export const TUNNEL_INTERFACE = 'crvs-vpn';
/** Seconds the workflow waits for the openconnect tunnel to come up. */
export const TUNNEL_WAIT_SECONDS = 60;

const secretRef = (name: string) => expr(`secrets.${name}`);

export function connectionRecipe(spec: Spec): ConnectionRecipe {
  const { method, vpn } = spec.connection;
  if (method === 'direct')
    return {
      summary: 'connection: direct. The runner reaches the servers over SSH without a tunnel.',
      packages: [],
      connect: [],
      disconnect: [],
    };
  if (method === 'bastion')
    return {
      summary:
        'connection: bastion. crvs jumps through environments.jump (its relay-only user); no extra step is needed.',
      packages: [],
      connect: [],
      disconnect: [],
    };
  if (!vpn) throw new Error('connection method is vpn but the vpn recipe is missing');
  if (vpn.kind === 'openconnect') {
    const pidFile = '$RUNNER_TEMP/openconnect.pid';
    return {
      summary: `connection: vpn (openconnect, ${vpn.protocol}) to ${vpn.endpoint}, up before crvs runs and down after.`,
      packages: ['openconnect'],
      connect: [
        {
          name: 'Connect the VPN (openconnect)',
          'timeout-minutes': 5,
          env: {
            VPN_USER: secretRef(vpn.usernameSecret ?? DEFAULT_VPN_SECRETS.username),
            VPN_PASSWORD: secretRef(vpn.passwordSecret ?? DEFAULT_VPN_SECRETS.password),
          },
          run: script(
            'printf \'%s\\n\' "$VPN_PASSWORD" | sudo openconnect --background --non-inter \\',
            `  --protocol=${vpn.protocol} --interface=${TUNNEL_INTERFACE} --pid-file="${pidFile}" \\`,
            `  --user "$VPN_USER" --passwd-on-stdin ${vpn.endpoint}`,
            `for _ in $(seq ${TUNNEL_WAIT_SECONDS}); do`,
            `  if ip -o addr show dev ${TUNNEL_INTERFACE} 2>/dev/null | grep -q inet; then exit 0; fi`,
            '  sleep 1',
            'done',
            `echo "::error::the VPN tunnel did not come up within ${TUNNEL_WAIT_SECONDS} s"`,
            'exit 1',
          ),
        },
      ],
      disconnect: [
        {
          name: 'Disconnect the VPN',
          if: 'always()',
          run: script(`if [ -f "${pidFile}" ]; then`, `  sudo kill "$(cat "${pidFile}")" || true`, 'fi'),
        },
      ],
    };
  }
  const conf = `$RUNNER_TEMP/${TUNNEL_INTERFACE}.conf`;
  return {
    summary: 'connection: vpn (WireGuard), up before crvs runs and down after.',
    packages: ['wireguard-tools'],
    connect: [
      {
        name: 'Connect the VPN (WireGuard)',
        'timeout-minutes': 5,
        env: { WIREGUARD_CONFIG: secretRef(vpn.configSecret ?? DEFAULT_VPN_SECRETS.config) },
        run: script(
          'umask 077',
          `printf '%s\\n' "$WIREGUARD_CONFIG" > "${conf}"`,
          `chmod 600 "${conf}"`,
          `sudo wg-quick up "${conf}"`,
        ),
      },
    ],
    disconnect: [
      {
        name: 'Disconnect the VPN',
        if: 'always()',
        run: script(
          `if [ -f "${conf}" ]; then`,
          `  sudo wg-quick down "${conf}" || true`,
          `  shred -u "${conf}" || rm -f "${conf}"`,
          'fi',
        ),
      },
    ],
  };
}
