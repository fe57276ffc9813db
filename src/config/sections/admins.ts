import { z } from 'zod';
import { doc } from './doc.js';

export const sshPublicKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/,
    'must be an OpenSSH public key line such as "ssh-ed25519 AAAA... alice@laptop"',
  );

export const adminSchema = z.strictObject({
  name: doc(
    z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name (lower case, digits, _ or -)'),
    'Linux user name of the administrator.',
    'alice',
  ),
  sshKeys: doc(z.array(sshPublicKey).min(1), 'SSH public keys of the administrator.', [
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz alice@laptop',
  ]),
  state: doc(
    z.enum(['present', 'absent']).default('present'),
    'present: the account exists with sudo; absent: the account is removed from every server.',
    'present',
  ),
  email: doc(
    z.email().optional(),
    'Contact address of the administrator (for 2FA enrolment notices).',
    'alice@gov.example',
  ),
});

export const adminsSchema = doc(
  z.array(adminSchema).default([]),
  'Server administrators: SSH access with sudo, 2FA on production and staging.',
  [{ name: 'alice', sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz alice@laptop'] }],
);
