import { dirname, join } from 'node:path';
import type { Spec } from '../../../src/config/schema.js';
import type { Executor } from '../../../src/remote/executor.js';
import type { Effects, EnvironmentContext } from '../../../src/usecases/context.js';

/** Effects for a use case under test: the given executor, a fixed clock, no waiting between polls. */
export const fakeEffects = (exec: Executor): Effects => ({
  exec,
  progress: () => {},
  now: () => new Date(0),
  actor: { who: 't', from: 't' },
  env: {},
  pollMs: 0,
});

/** An environment whose manager is `<environment>-1`, with the key file `id` beside the spec. */
export const fakeContext = (spec: Spec, specFile: string, environment: string): EnvironmentContext => ({
  spec,
  specFile,
  environment,
  identity: join(dirname(specFile), 'id'),
  knownHosts: join(dirname(specFile), 'known_hosts'),
  manager: { environment, ssh: ['ssh', `${environment}-1`] },
});
