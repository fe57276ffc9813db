// One-shot seed job: loads reference data (offices, locations, users) from CSV files. Refuses to run twice
// unless FORCE=1; with RESET=1 it first clears every record and attachment (qa, development, staging only).
'use strict';
const fs = require('node:fs');
const crypto = require('node:crypto');
const http = require('node:http');
const { Client } = require('pg');

const secret = (name) => fs.readFileSync(`/run/secrets/${name}`, 'utf8').trim();
const dir = process.env.SEED_DIR || '/app/seed-data';

function csv(file) {
  const [header, ...lines] = fs.readFileSync(`${dir}/${file}`, 'utf8').trim().split('\n');
  const keys = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v.trim()])));
}

function clearDocuments() {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${process.env.DOCUMENTS_URL || 'http://documents:8080'}/reset`,
      { method: 'POST', timeout: 10000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`documents reset: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Retries while the service is still starting (right after a deploy); gives up after about two minutes. */
async function retrying(what, attempt) {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (i >= 60) throw new Error(`${what}: ${e.message}`);
      if (i % 10 === 0) console.log(`waiting for ${what}: ${e.message}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

async function main() {
  // A pg client cannot be reused after a failed connect: a new one per attempt.
  const client = await retrying('the database', async () => {
    const c = new Client({
      host: process.env.DB_HOST || 'db',
      user: 'app',
      database: 'crvs',
      password: secret('APP_DB_PASSWORD'),
    });
    try {
      await c.connect();
      return c;
    } catch (e) {
      await c.end().catch(() => {});
      throw e;
    }
  });
  await client.query('begin');
  if (process.env.RESET === '1') {
    await client.query('truncate records, users, locations, offices, seed_runs');
    await retrying('the documents service', clearDocuments);
    console.log('reset: every record, attachment and reference row removed');
  }
  const { rows } = await client.query('select count(*)::int as n from seed_runs');
  if (rows[0].n > 0 && process.env.FORCE !== '1') {
    await client.query('rollback');
    console.log('SEED_REFUSED: this environment is already seeded');
    process.exit(3);
  }
  const offices = csv('offices.csv');
  const locations = csv('locations.csv');
  const users = csv('users.csv');
  for (const l of locations)
    await client.query(
      "insert into locations (code, name, parent) values ($1, $2, nullif($3, '')) on conflict (code) do update set name = excluded.name",
      [l.code, l.name, l.parent],
    );
  for (const o of offices)
    await client.query(
      'insert into offices (code, name, location) values ($1, $2, $3) on conflict (code) do update set name = excluded.name',
      [o.code, o.name, o.location],
    );
  const superPassword = secret('SUPER_USER_PASSWORD');
  for (const u of users) {
    const salt = crypto.randomBytes(16);
    const hash = crypto.scryptSync(
      u.role === 'NATIONAL_SYSTEM_ADMIN' ? superPassword : crypto.randomBytes(18).toString('base64url'),
      salt,
      32,
    );
    await client.query(
      'insert into users (username, name, role, office, password_hash) values ($1, $2, $3, $4, $5) on conflict (username) do nothing',
      [u.username, u.name, u.role, u.office, `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`],
    );
  }
  await client.query('insert into seed_runs (at, offices, locations, users) values (now(), $1, $2, $3)', [
    offices.length,
    locations.length,
    users.length,
  ]);
  await client.query('commit');
  console.log(`SEEDED offices=${offices.length} locations=${locations.length} users=${users.length}`);
  await client.end();
}

main().catch((e) => {
  console.error(`seed failed: ${e.message}`);
  process.exit(1);
});
