import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { countryRepository } from '../../support/opencrvs-fixture.js';
import { crvs } from '../helpers/cli.js';

describe('crvs stack render', () => {
  const repo = () => {
    const spec = countryRepository();
    copyFileSync('examples/pilot/crvs.yaml', spec);
    return spec;
  };

  it('prints the stack file deploy would deploy, with no store yet: secrets named by key, no server contacted', async () => {
    const spec = repo();
    const r = await crvs(['stack', 'render', 'qa', '--spec', spec]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('qa has no secrets store yet: secrets are named by key only\n');
    expect(r.stdout.split('\n')[0]).toBe(
      '# Rendered by crvs from: docker-compose.deps.yml, docker-compose.yml, docker-compose.deploy.yml, docker-compose.qa-deploy.yml',
    );
    const doc = parse(r.stdout) as { services: Record<string, { image: string }>; secrets: object };
    expect(doc.services.gateway?.image).toBe('ghcr.io/opencrvs/ocrvs-gateway:v1.9.0');
    expect(Object.keys(doc.secrets)).toContain('ENV_GATEWAY');
    const json = JSON.parse((await crvs(['stack', 'render', 'qa', '--spec', spec, '--json'])).stdout);
    expect([json.environment, json.version, json.bound]).toEqual(['qa', 'v1.9.0', false]);
    expect(json.files.length).toBeGreaterThan(0);
    for (const f of json.files) expect(f).toMatch(/^files\/[0-9a-f]{16}-[\w.-]+$/);
  });

  it('exits 2 and names the file when a country compose file is missing', async () => {
    const spec = repo();
    rmSync(join(dirname(spec), 'infrastructure/docker-compose.qa-deploy.yml'));
    const r = await crvs(['stack', 'render', 'qa', '--spec', spec]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error [E_COMPOSE_INPUT]: ${dirname(spec)}/infrastructure/docker-compose.qa-deploy.yml is missing`,
    );
  });
});
