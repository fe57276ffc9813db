// The README's main job, `crvs demo`: the whole rehearsal on the local lab as a list of crvs commands (each
// idempotent, so running the demo again converges), then a health table read from each environment's ingress.
import { join } from 'node:path';
import type { Spec } from '../config/schema.js';

/** The lab's environments that run the demo stack, and every environment it provisions. */
const APP = ['qa', 'production', 'staging'] as const;
const ALL = [...APP, 'backup', 'jump'];

export interface DemoStep {
  title: string;
  argv: string[];
  /** A failure whose error output says this is an expected outcome (a second seed is refused). */
  acceptWhen?: string;
}

/** Steps one after another: a lane stops at its first failure. */
export type DemoLane = DemoStep[];
/** Lanes side by side: the stage ends when every lane has. */
export type DemoStage = DemoLane[];

export interface DemoPlan {
  spec: string;
  identity: string;
  /** Variables the steps run with: the lab's key, its directory, and where alerts go. */
  env: Record<string, string>;
  /** One after another; a stage starts only when the one before it succeeded. */
  stages: DemoStage[];
}

export function demoPlan(dir: string, env: Readonly<Record<string, string | undefined>>): DemoPlan {
  const spec = join(dir, 'crvs.yaml');
  const identity = join(dir, 'id_ed25519');
  const withSpec = (...argv: string[]) => [...argv, '--spec', spec];
  const alone = (step: DemoStep): DemoStage => [[step]];
  const appLane = (e: (typeof APP)[number]): DemoLane => [
    { title: `deploy ${e}`, argv: withSpec('deploy', e) },
    { title: `seed ${e}`, argv: withSpec('seed', e), acceptWhen: 'already seeded' },
  ];
  return {
    spec,
    identity,
    env: {
      CRVS_IDENTITY: identity,
      CRVS_LAB_DIR: dir,
      // The lab has no receiver of a country's own: every server's alerts go to the lab's (crvs lab alerts).
      CRVS_SECRET_ALERT_WEBHOOK_URL: env.CRVS_SECRET_ALERT_WEBHOOK_URL ?? 'http://10.77.0.2:9000/alerts',
    },
    stages: [
      alone({ title: 'the lab', argv: ['lab', 'up', '--dir', dir] }),
      // Secrets first: provisioning reads the alert webhook from the environment's store.
      ...ALL.map((e) => alone({ title: `secrets of ${e}`, argv: withSpec('secrets', 'init', e) })),
      alone({ title: 'provision every environment', argv: withSpec('provision', ...ALL) }),
      // qa alone first: its deploy builds the stack's images and pushes them into the lab's registry, where the two
      // after it find them. Those two run on other servers, and mostly wait for their services to start.
      [appLane('qa')],
      [appLane('production'), appLane('staging')],
    ],
  };
}

/**
 * Runs the stages in order, each stage's lanes side by side. Returns the titles of the steps that failed in the
 * first stage that had a failure (its other lanes finish first); no later stage starts. Empty: all succeeded.
 */
export async function runStages(
  stages: DemoStage[],
  run: (step: DemoStep) => Promise<boolean>,
): Promise<string[]> {
  const runLane = async (lane: DemoLane): Promise<string | undefined> => {
    for (const step of lane) if (!(await run(step))) return step.title;
    return undefined;
  };
  for (const stage of stages) {
    const failed = (await Promise.all(stage.map(runLane))).filter((t): t is string => t !== undefined);
    if (failed.length) return failed;
  }
  return [];
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One row per application environment: where it answers, its version, health and data, from its ingress. */
export async function demoHealth(
  spec: Spec,
  get: (address: string, path: string) => Promise<HttpAnswer>,
): Promise<string[][]> {
  const rows: string[][] = [];
  for (const e of APP) {
    const server = spec.environments[e]?.servers[0];
    if (!server) continue;
    const version = await get(server.address, '/version');
    const ready = await get(server.address, '/ready');
    const stats = await get(server.address, '/stats');
    const s = stats.status === 200 ? (JSON.parse(stats.body) as Record<string, number>) : {};
    rows.push([
      e,
      `http://${server.address}/ (${e === 'production' ? spec.domain : `${e}.${spec.domain}`})`,
      version.status === 200 ? String((JSON.parse(version.body) as { version: string }).version) : '-',
      ready.status === 200 ? 'ready' : `not ready (${ready.status})`,
      `${s.records ?? '-'} records, ${s.offices ?? '-'} offices, ${s.users ?? '-'} users`,
    ]);
  }
  return rows;
}
