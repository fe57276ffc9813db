import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertText, parseAlerts } from '../../../src/lab/ops.js';
import { packagePath } from '../../../src/paths.js';

// The lab's alert receiver script, run for real on loopback (the lab runs it in its services container), and
// what `crvs lab alerts` makes of its log.
const logs = mkdtempSync(join(tmpdir(), 'crvs-alerts-'));
let receiver: ChildProcess | undefined;

function post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForListener(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the receiver never listened on ${port}`);
}

afterAll(() => {
  receiver?.kill();
});

describe('the lab alert receiver', () => {
  it('logs every POST as one JSON line that crvs lab alerts reads back', async () => {
    const port = await freePort();
    receiver = spawn('python3', [packagePath('lab', 'images', 'services', 'crvs-lab-alerts.py')], {
      env: {
        ...process.env,
        LOGS_DIRECTORY: logs,
        CRVS_LAB_ALERTS_ADDRESS: '127.0.0.1',
        CRVS_LAB_ALERTS_PORT: String(port),
      },
      stdio: 'inherit',
    });
    await waitForListener(port);
    const login = {
      event: 'ssh-login',
      user: 'crvs',
      source: '10.77.0.1',
      server: 'backup-1',
      environment: 'backup',
      text: 'SSH login: crvs from 10.77.0.1 on backup-1 (backup)',
    };
    expect(await post(port, '/alerts', JSON.stringify(login))).toBe(204);
    expect(await post(port, '/slack', 'not json')).toBe(204);
    const alerts = parseAlerts(`${readFileSync(join(logs, 'alerts.jsonl'), 'utf8')}{"cut short`);
    expect(alerts.map((a) => [a.from, a.path, a.body])).toEqual([
      ['127.0.0.1', '/alerts', login],
      ['127.0.0.1', '/slack', 'not json'],
    ]);
    expect(alerts[0]?.received).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(alerts.map(alertText)).toEqual([login.text, 'not json']);
    expect(alertText({ received: '', from: '', path: '/', body: { level: 'warn' } })).toBe(
      '{"level":"warn"}',
    );
  });
});
