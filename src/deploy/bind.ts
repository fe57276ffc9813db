// Binding a stack file's external secrets to Swarm secrets: each key of the top-level `secrets` map names an entry
// of the secrets store (or a value the preset derives from it), and gets the name of the Swarm secret holding its
// current value. A kept release's stack file is bound again, so a rollback runs with today's values. Pure.
import { parse, stringify } from 'yaml';
import { CrvsError } from '../errors.js';
import type { Sensitive } from '../secrets/sensitive.js';
import { dockerSecretName } from './swarm.js';

export interface Bound {
  /** The stack file with every external secret named. */
  compose: string;
  /** Secrets bound here: their Swarm secret must exist, or be created from the value. */
  bound: { key: string; name: string; value: Sensitive<string> }[];
  /**
   * Secrets the stack file already named and the values do not hold (a kept release being rolled back to):
   * their Swarm secret must still exist.
   */
  kept: { key: string; name: string }[];
}

export function bindSecrets(
  compose: string,
  stack: string,
  values: Record<string, Sensitive<string>>,
): Bound {
  const doc = parse(compose) as { secrets?: Record<string, { external?: boolean; name?: string }> };
  const bound: Bound['bound'] = [];
  const kept: Bound['kept'] = [];
  const missing: string[] = [];
  for (const [key, def] of Object.entries(doc.secrets ?? {})) {
    if (!def?.external) continue;
    const value = values[key];
    if (!value) {
      if (def.name) kept.push({ key, name: def.name });
      else missing.push(key);
      continue;
    }
    const name = dockerSecretName(stack, key, value);
    def.name = name;
    bound.push({ key, name, value });
  }
  if (missing.length)
    throw new CrvsError(
      'E_SECRETS_MISSING',
      `the stack needs secrets that are not in the store: ${missing.join(', ')}`,
      { hint: 'crvs secrets check <env>; crvs secrets init <env>' },
    );
  return { compose: stringify(doc, { lineWidth: 0 }), bound, kept };
}
