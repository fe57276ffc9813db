import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import { catalogue } from '../../../src/secrets/catalogue.js';
import { generate } from '../../../src/secrets/generate.js';
import { forgetSecrets } from '../../../src/secrets/sensitive.js';
import { planRollback } from '../../../src/usecases/deploy.js';
import { renderRelease } from '../../../src/usecases/release.js';
import { countryRepository } from '../../support/opencrvs-fixture.js';
import { fakeContext, fakeEffects } from '../helpers/context.js';
import { exampleSpec } from '../helpers/spec.js';

afterEach(() => forgetSecrets());

describe('crvs rollback of an opencrvs environment', () => {
  it("binds the kept stack file to today's store values plus the secrets the preset derives from them", async () => {
    const spec = exampleSpec('pilot');
    const specFile = countryRepository();
    const dir = dirname(specFile);
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets/production.age'), 'sealed');
    writeFileSync(join(dir, 'id'), 'key');
    const store = Object.fromEntries(
      catalogue(spec, 'production').map((d) => [
        d.name,
        { value: d.generator ? generate(d.generator) : `canary-${d.name}`, setAt: 'T' },
      ]),
    );
    // The release kept on the manager: v1.9.0's stack file as deploy uploaded it (its secrets were named then).
    const kept = renderRelease(spec, specFile, 'production', 'v1.9.0', {}).compose;
    const exec = new RecordingExecutor([
      { match: /^age --decrypt/, result: { stdout: JSON.stringify({ secrets: store }) } },
      { match: /release\.json/, result: { stdout: '{"version":"v1.9.1","history":["v1.9.0","v1.9.1"]}' } },
      { match: /stack-v1\.9\.0\.yml$/, result: { stdout: kept } },
      { match: /stack-v1\.9\.1\.yml$/, result: { stdout: 'services: {}\n' } },
      { match: /docker secret ls/, result: { stdout: '' } },
    ]);
    const fx = fakeEffects(exec);
    const c = fakeContext(spec, specFile, 'production');
    const plan = await planRollback(fx, c);
    expect([plan.action, plan.version, plan.running]).toEqual(['rollback', 'v1.9.0', 'v1.9.1']);
    const doc = parse(plan.compose) as { secrets: Record<string, { external: boolean; name?: string }> };
    // Every secret of the kept file is bound: the store's own and the derived ones (env files, key halves, ACL).
    for (const [key, def] of Object.entries(doc.secrets))
      expect(def.name, key).toMatch(/^crvs_[a-z0-9_]+_[0-9a-f]{10}$/);
    const keys = plan.secrets.map((s) => s.key);
    for (const k of [
      'ENV_GATEWAY',
      'ENV_MIGRATION',
      'AUTH_PUBLIC_KEY',
      'AUTH_PRIVATE_KEY',
      'MONGO_KEYFILE',
      'REDIS_ACL',
    ])
      expect(keys).toContain(k);
    expect(plan.secrets.every((s) => !s.exists)).toBe(true);
    for (const v of Object.values(store)) expect(plan.compose).not.toContain(v.value);
    expect(plan.files).toEqual([]);
    expect(exec.lines().some((l) => l.includes('docker stack deploy'))).toBe(false);
  });
});
