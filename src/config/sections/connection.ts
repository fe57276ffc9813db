import { z } from 'zod';
import { cidr, hostname, secretName } from './common.js';
import { doc } from './doc.js';

export const vpnSchema = z.strictObject({
  kind: doc(z.enum(['openconnect', 'wireguard']), 'VPN client that CI runners use.', 'openconnect'),
  endpoint: doc(hostname, 'VPN gateway host name.', 'vpn.gov.example'),
  protocol: doc(
    z.enum(['anyconnect', 'gp', 'nc', 'pulse', 'fortinet']).default('anyconnect'),
    'openconnect protocol (ignored for wireguard).',
    'anyconnect',
  ),
  usernameSecret: secretName('Secret holding the VPN user name (openconnect).', 'VPN_USER').optional(),
  passwordSecret: secretName('Secret holding the VPN password (openconnect).', 'VPN_PASSWORD').optional(),
  configSecret: secretName('Secret holding the WireGuard configuration file.', 'WIREGUARD_CONFIG').optional(),
});

export const connectionSchema = doc(
  z
    .strictObject({
      method: doc(
        z.enum(['direct', 'bastion', 'vpn']).default('direct'),
        'How crvs and CI reach the servers: directly, through the jump host (its relay-only user), or after connecting a VPN.',
        'bastion',
      ),
      vpn: doc(vpnSchema.optional(), 'VPN recipe, required when method is vpn.', {
        kind: 'openconnect',
        endpoint: 'vpn.gov.example',
      }),
      allowedSshSources: doc(
        z.array(cidr).default([]),
        'Addresses or CIDR ranges allowed to open SSH connections (VPN range, CI runners). The jump host is always allowed when method is bastion. Empty means anywhere.',
        ['10.8.0.0/24'],
      ),
    })
    .default({ method: 'direct', allowedSshSources: [] }),
  'How servers are reached for provisioning and deployment.',
  { method: 'bastion' },
);
