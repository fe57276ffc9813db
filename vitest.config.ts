import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Lab files in a fixed order: the lab's own checks, then first provisioning of delivered servers (which the
// files after it share, see ensureProvisioned in test/integration/helpers/lab.ts), then what needs a
// provisioned lab. A file not listed runs last.
const INTEGRATION_ORDER = [
  'cli-binary.test.ts',
  'secrets.test.ts',
  'github-sync.test.ts',
  'restore-runner.test.ts',
  'ansible-engine.test.ts',
  'lab.test.ts',
  // The main job first, on delivered servers, as a user's first `crvs demo` runs: its provisioning is the lab's
  // first, which the files after it share, and deploy.test's setup finds qa and production running v1 (about 40 s,
  // against 200 s when it built and deployed them). On one machine (2026-12-05), the integration files took 57.8
  // and 53.9 minutes in this order and 58.7 with demo.test after deploy.test: any gain is within the noise. With
  // three stacks up (health checks every 10 s), provision.test's runs took 507 s against 440 s before any stack;
  // with checks every 3 s, 1.8 times as long (2026-12-01).
  'demo.test.ts',
  'provision.test.ts',
  'hostkeys.test.ts',
  'deploy.test.ts',
  'opencrvs-preset.test.ts',
  // Production and staging run the demo stack, seeded, and the backup wiring is in place.
  'backup.test.ts',
  // After backup.test: production has archives and staging a drill to report on.
  'doctor.test.ts',
  // After doctor.test (which reads qa's certificate as the lab spec makes it): qa's proxy in each TLS mode, then
  // back to the lab spec's.
  'tls.test.ts',
  // Last: it reboots production's data node (the volume locks, the database stops until unlocked).
  'data-volume.test.ts',
];

class LabOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      if (f.project.name !== 'integration') return -1;
      const i = INTEGRATION_ORDER.indexOf(basename(f.moduleId));
      return i < 0 ? INTEGRATION_ORDER.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

// Two projects: `unit` is pure and fast (no network, no processes beyond node itself);
// `integration` drives real servers in the lab and runs one file at a time.
export default defineConfig({
  test: {
    sequence: { sequencer: LabOrder },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
        },
      },
    ],
  },
});
