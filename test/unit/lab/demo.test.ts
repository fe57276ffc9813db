import { describe, expect, it } from 'vitest';
import { type DemoStep, demoPlan, runStages } from '../../../src/usecases/demo.js';

const plan = demoPlan('/lab', {});
const titles = plan.stages.map((stage) => stage.map((lane) => lane.map((s) => s.title)));

/** A runner whose steps end when the test says so: records what started and ended, in order. */
function controlledRunner(fail: string[] = []) {
  const log: string[] = [];
  const pending = new Map<string, () => void>();
  const run = (step: DemoStep) =>
    new Promise<boolean>((resolve) => {
      log.push(`start ${step.title}`);
      pending.set(step.title, () => {
        log.push(`end ${step.title}`);
        resolve(!fail.includes(step.title));
      });
    });
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const finish = async (title: string) => {
    await settle();
    const end = pending.get(title);
    if (!end) throw new Error(`${title} has not started (log: ${log.join(', ')})`);
    pending.delete(title);
    end();
    await settle();
  };
  return { log, run, finish, running: () => [...pending.keys()] };
}

describe('crvs demo', () => {
  it('plans the lab, the secrets, one provisioning run, qa alone, then production and staging side by side', () => {
    expect(titles).toEqual([
      [['the lab']],
      [['secrets of qa']],
      [['secrets of production']],
      [['secrets of staging']],
      [['secrets of backup']],
      [['secrets of jump']],
      [['provision every environment']],
      [['deploy qa', 'seed qa']],
      [
        ['deploy production', 'seed production'],
        ['deploy staging', 'seed staging'],
      ],
    ]);
    const steps = plan.stages.flat(2);
    expect(steps.find((s) => s.title === 'provision every environment')?.argv).toEqual([
      'provision',
      'qa',
      'production',
      'staging',
      'backup',
      'jump',
      '--spec',
      '/lab/crvs.yaml',
    ]);
    expect(steps.find((s) => s.title === 'seed staging')).toEqual({
      title: 'seed staging',
      argv: ['seed', 'staging', '--spec', '/lab/crvs.yaml'],
      acceptWhen: 'already seeded',
    });
  });

  it('runs the lanes of a stage side by side and each lane in order; a stage waits for the one before', async () => {
    const r = controlledRunner();
    const done = runStages(plan.stages.slice(-2), r.run);
    await r.finish('deploy qa');
    expect(r.running()).toEqual(['seed qa']);
    await r.finish('seed qa');
    // Both deploys run at once; each seed waits for its own deploy only.
    expect(r.running()).toEqual(['deploy production', 'deploy staging']);
    await r.finish('deploy staging');
    expect(r.running()).toEqual(['deploy production', 'seed staging']);
    await r.finish('seed staging');
    await r.finish('deploy production');
    await r.finish('seed production');
    expect(await done).toEqual([]);
    expect(r.log).toEqual([
      'start deploy qa',
      'end deploy qa',
      'start seed qa',
      'end seed qa',
      'start deploy production',
      'start deploy staging',
      'end deploy staging',
      'start seed staging',
      'end seed staging',
      'end deploy production',
      'start seed production',
      'end seed production',
    ]);
  });

  it('stops a lane at its failure, lets the other lanes finish, and starts no later stage', async () => {
    const r = controlledRunner(['deploy production']);
    const twoLanes = runStages(plan.stages.slice(-1), r.run);
    await r.finish('deploy production');
    expect(r.running()).toEqual(['deploy staging']);
    await r.finish('deploy staging');
    await r.finish('seed staging');
    expect(await twoLanes).toEqual(['deploy production']);
    expect(r.log).not.toContain('start seed production');

    const later = controlledRunner(['deploy qa']);
    const stopped = runStages(plan.stages.slice(-2), later.run);
    await later.finish('deploy qa');
    expect(await stopped).toEqual(['deploy qa']);
    expect(later.log).toEqual(['start deploy qa', 'end deploy qa']);
  });
});
