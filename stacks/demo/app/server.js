// crvs demo: a small civil-registration rehearsal app. Records (births, deaths) live in Postgres; their
// attachments go to the documents service (this same program with MODE=documents), which keeps them on a volume.
// Secrets are read from files (/run/secrets), never from the environment.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const VERSION = fs.existsSync('/app/VERSION') ? fs.readFileSync('/app/VERSION', 'utf8').trim() : 'dev';
const BROKEN = fs.existsSync('/app/BROKEN'); // a release built to fail its health check (rollback rehearsal)
const MODE = process.env.MODE || 'app';
const PORT = Number(process.env.PORT || 8080);
const secret = (name) =>
  fs.readFileSync(process.env[`${name}_FILE`] || `/run/secrets/${name}`, 'utf8').trim();

let inFlight = 0;
let draining = false;

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'x-version': VERSION,
  });
  res.end(text);
}

function readBody(req, limit = 10 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(Object.assign(new Error('too large'), { status: 413 }));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ---- documents service: attachments on a volume ----
const DOCS = process.env.DOCUMENTS_DIR || '/data/documents';
async function documents(req, res) {
  const m = /^\/documents\/([a-f0-9-]{36})$/.exec(req.url);
  if (req.url === '/health') return send(res, BROKEN ? 500 : 200, BROKEN ? 'broken' : 'ok');
  if (req.url === '/ready') return send(res, 200, 'ready');
  if (req.url === '/version') return send(res, 200, { version: VERSION, mode: MODE });
  if (req.url === '/reset' && req.method === 'POST') {
    for (const f of fs.readdirSync(DOCS)) fs.rmSync(path.join(DOCS, f), { force: true });
    return send(res, 200, { cleared: true });
  }
  if (!m) return send(res, 404, { error: 'not found' });
  const file = path.join(DOCS, m[1]);
  if (req.method === 'PUT') {
    const body = await readBody(req);
    fs.writeFileSync(`${file}.tmp`, body);
    fs.renameSync(`${file}.tmp`, file); // whole files only, even if we die mid-write
    return send(res, 201, { id: m[1], sha256: crypto.createHash('sha256').update(body).digest('hex') });
  }
  if (req.method === 'GET') {
    if (!fs.existsSync(file)) return send(res, 404, { error: 'no such document' });
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    return res.end(fs.readFileSync(file));
  }
  return send(res, 405, { error: 'method not allowed' });
}

// ---- the registration app ----
let pool;
function db() {
  if (!pool) {
    const { Pool } = require('pg');
    pool = new Pool({
      host: process.env.DB_HOST || 'db',
      user: 'app',
      database: 'crvs',
      password: secret('APP_DB_PASSWORD'),
      max: 10,
      connectionTimeoutMillis: 1500, // a missing database answers 503 quickly, never hangs
      query_timeout: 5000,
    });
    pool.on('error', () => {}); // a lost connection is replaced on the next query
  }
  return pool;
}

const DOCS_URL = process.env.DOCUMENTS_URL || 'http://documents:8080';
// During a rolling update the documents task being replaced refuses connections for a moment, and once it is
// gone its address may still be in DNS and answer nothing at all (a timeout); a fresh lookup on the next try finds
// its successor. A PUT is safe to repeat: the attachment is stored under the record's id. Worst case (five
// timeouts) stays under ten seconds, what a client waits.
const RETRYABLE = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
];
async function docRequest(method, id, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await docRequestOnce(method, id, body);
    } catch (e) {
      if (attempt >= 5 || !RETRYABLE.includes(e.code)) throw e;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
function docRequestOnce(method, id, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${DOCS_URL}/documents/${id}`, { method, timeout: 1500 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('documents timeout'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function app(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/health') return send(res, BROKEN ? 500 : 200, BROKEN ? 'broken' : 'ok');
  if (url.pathname === '/version') return send(res, 200, { version: VERSION, mode: MODE });
  if (url.pathname === '/ready') {
    if (draining) return send(res, 503, 'draining');
    try {
      await db().query('select 1');
      return send(res, 200, 'ready');
    } catch {
      return send(res, 503, 'database unavailable');
    }
  }
  try {
    if (url.pathname === '/records' && req.method === 'POST') {
      const r = JSON.parse((await readBody(req)).toString() || '{}');
      if (!['birth', 'death'].includes(r.type) || !r.name || !r.date || !r.office)
        return send(res, 400, { error: 'type (birth|death), name, date and office are required' });
      const id = crypto.randomUUID();
      let sha256 = null;
      if (r.attachment) {
        const bytes = Buffer.from(r.attachment, 'base64');
        const put = await docRequest('PUT', id, bytes);
        if (put.status !== 201) return send(res, 503, { error: 'documents unavailable' });
        sha256 = JSON.parse(put.body.toString()).sha256;
      }
      await db().query(
        'insert into records (id, type, name, event_date, office_code, attachment_sha256) values ($1, $2, $3, $4, $5, $6)',
        [id, r.type, r.name, r.date, r.office, sha256],
      );
      return send(res, 201, { id, attachmentSha256: sha256 });
    }
    const m = /^\/records\/([a-f0-9-]{36})$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const { rows } = await db().query('select * from records where id = $1', [m[1]]);
      if (!rows[0]) return send(res, 404, { error: 'no such record' });
      let attachment = null;
      if (rows[0].attachment_sha256) {
        const doc = await docRequest('GET', m[1]);
        attachment = doc.status === 200 ? crypto.createHash('sha256').update(doc.body).digest('hex') : null;
      }
      return send(res, 200, { ...rows[0], attachmentVerified: attachment === rows[0].attachment_sha256 });
    }
    if (url.pathname === '/stats') {
      const q = async (sql) => Number((await db().query(sql)).rows[0].n);
      return send(res, 200, {
        records: await q('select count(*) as n from records'),
        offices: await q('select count(*) as n from offices'),
        locations: await q('select count(*) as n from locations'),
        users: await q('select count(*) as n from users'),
        seeded: await q('select count(*) as n from seed_runs'),
      });
    }
    return send(res, 404, { error: 'not found' });
  } catch (e) {
    console.error(`${req.method} ${url.pathname}: ${e.code ?? ''} ${e.message}`);
    return send(res, 503, { error: 'service unavailable' });
  }
}

const handler = MODE === 'documents' ? documents : app;
const server = http.createServer((req, res) => {
  inFlight++;
  res.on('close', () => inFlight--);
  handler(req, res).catch(() => send(res, 500, { error: 'internal error' }));
});
server.keepAliveTimeout = 2000;
server.listen(PORT, () => console.log(`crvs-demo ${MODE} ${VERSION} listening on ${PORT}`));

// Drain on SIGTERM: stop taking new connections, finish the requests in flight, then exit.
process.on('SIGTERM', () => {
  draining = true;
  console.log(`draining ${inFlight} request(s)`);
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 15000).unref();
});
