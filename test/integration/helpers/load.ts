// A bounded load generator for the lab: a fixed number of workers send requests to lab addresses only, until
// told to stop, the time limit passes, or the request budget is spent. Every non-2xx answer or error counts.
import { request } from 'node:http';

export interface LoadResult {
  sent: number;
  failed: number;
  failures: string[];
  ms: number;
}

export function call(
  host: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<{ status: number; json: Record<string, unknown> }> {
  if (!host.startsWith('10.77.0.')) throw new Error(`refusing to send requests outside the lab: ${host}`);
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host,
        port: 80,
        // A fresh connection per request: a kept-alive socket the proxy closed meanwhile would fail the request.
        agent: false,
        method,
        path,
        timeout: timeoutMs,
        headers: data ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

export const record = (i: number) => ({
  type: i % 2 ? 'birth' : 'death',
  name: `Load ${i}`,
  date: '2026-11-24',
  office: 'IBO-1',
  attachment: Buffer.from(`scan ${i}`).toString('base64'),
});

export function startLoad(host: string, o: { workers: number; maxRequests: number; maxMs: number }) {
  let stop = false;
  const result: LoadResult = { sent: 0, failed: 0, failures: [], ms: 0 };
  const ids: string[] = [];
  const started = Date.now();
  const worker = async () => {
    while (!stop && result.sent < o.maxRequests && Date.now() - started < o.maxMs) {
      const i = result.sent++;
      try {
        const r =
          i % 3 === 0 || ids.length === 0
            ? await call(host, 'POST', '/records', record(i))
            : await call(host, 'GET', `/records/${ids[i % ids.length]}`);
        if (r.status >= 300) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.json)}`);
        if (typeof r.json.id === 'string' && r.status === 201) ids.push(r.json.id);
      } catch (e) {
        result.failed++;
        if (result.failures.length < 10) result.failures.push(`${i}: ${(e as Error).message}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: o.workers }, worker)).then(() => {
    result.ms = Date.now() - started;
    return result;
  });
  return {
    stop: () => {
      stop = true;
      return done;
    },
    done,
    ids,
  };
}
