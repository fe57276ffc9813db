import { z } from 'zod';
import { doc } from './doc.js';

const https = z.url().regex(/^https?:\/\//, 'must be an http(s) URL');

/** Where generated workflows install crvs from; every form names exactly one artefact and a way to verify it. */
export const crvsSourceSchema = z.union([
  z.strictObject({
    npm: doc(
      z
        .string()
        .regex(
          /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*@\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/,
          'must be name@x.y.z',
        ),
      'A published npm package at an exact version.',
      'crvs-deploy@1.0.0',
    ),
    integrity: doc(
      z.string().regex(/^sha512-[A-Za-z0-9+/]{86}==$/, 'must be the sha512- integrity npm reports'),
      "The package's integrity as the registry reports it (npm view <name>@<version> dist.integrity).",
      'sha512-…',
    ),
  }),
  z.strictObject({
    git: doc(https, 'A git repository of crvs-deploy (https).', 'https://github.com/example/crvs-deploy.git'),
    commit: doc(
      z.string().regex(/^[0-9a-f]{40}$/, 'must be a full 40-character commit id'),
      'The full commit id.',
      '0123…',
    ),
  }),
  z.strictObject({
    tarball: doc(https, 'A tarball made by npm pack.', 'https://example.org/crvs-deploy-1.0.0.tgz'),
    sha512: doc(
      z.string().regex(/^[0-9a-f]{128}$/, 'must be a hex sha512 (sha512sum)'),
      'Its sha512, hex.',
      '…',
    ),
  }),
]);

export type CrvsSource = z.infer<typeof crvsSourceSchema>;

export const ciSchema = doc(
  z
    .strictObject({
      crvs: doc(
        crvsSourceSchema.optional(),
        'Where the generated workflows install crvs from, pinned and verified. Default: the source crvs itself was installed from (a git checkout: its origin at its commit).',
        { npm: 'crvs-deploy@1.0.0', integrity: 'sha512-…' },
      ),
    })
    .optional(),
  'The workflows crvs ci generate writes.',
  { crvs: { git: 'https://github.com/example/crvs-deploy.git', commit: '0123…' } },
);
