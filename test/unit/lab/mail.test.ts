import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMail } from '../../../src/lab/ops.js';
import { packagePath } from '../../../src/paths.js';

// The lab's mailbox reader (lab/images/services/crvs-lab-mail.py), run for real on an mbox written here as
// Postfix's local delivery writes one, and what `crvs lab mail` makes of its output.
const reader = packagePath('lab', 'images', 'services', 'crvs-lab-mail.py');
const read = (mbox: string) => {
  const r = spawnSync('python3', [reader, mbox], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return parseMail(r.stdout);
};

const MBOX = [
  'From noreply@lab.crvs.test  Thu Dec  3 15:27:24 2026',
  'Return-Path: <noreply@lab.crvs.test>',
  'Received: from qa-1 (unknown [10.77.0.11])',
  '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))',
  '\t(Authenticated sender: alerts@lab.crvs.test)',
  '\tby mail.lab.crvs.test (Postfix) with ESMTPSA id 4B1C2',
  '\tfor <ops@lab.crvs.test>; Thu,  3 Dec 2026 15:27:24 +0000 (UTC)',
  'Subject: =?utf-8?q?SSH_login=3A_ops_from_10=2E77=2E0=2E1_on_qa-1_=28qa=29_=E2=9C=93?=',
  'From: noreply@lab.crvs.test',
  'To: ops@lab.crvs.test, someone@lab.crvs.test',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset="utf-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '{"event": "ssh-login", "text": "caf=C3=A9"}',
  '>From the escaped line',
  '',
  'From root@mail.lab.crvs.test  Fri Dec  4 01:00:03 2026',
  // As Python's e-mail package folds a subject too long for the first line.
  'Subject:',
  ' the data disk (/data) is 71% full, 76.8 GB free (alert at 70%) on backup-1 (backup)',
  'From: crvs <noreply@lab.crvs.test>',
  'To: ops@lab.crvs.test',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/html; charset="utf-8"',
  '',
  '<p>html</p>',
  '--b1',
  'Content-Type: text/plain; charset="utf-8"',
  '',
  'no new archive for 26 hours',
  '--b1--',
  '',
].join('\n');

describe('the lab mailbox', () => {
  it('reads each message: delivery time, sender, recipients, decoded subject and text part', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-mail-'));
    writeFileSync(join(dir, 'ops'), MBOX);
    expect(read(join(dir, 'ops'))).toEqual([
      {
        received: '2026-12-03T15:27:24+00:00',
        from: 'noreply@lab.crvs.test',
        to: ['ops@lab.crvs.test', 'someone@lab.crvs.test'],
        subject: 'SSH login: ops from 10.77.0.1 on qa-1 (qa) ✓',
        // Postfix writes mboxo: a body line starting with "From " is quoted for good.
        body: '{"event": "ssh-login", "text": "café"}\n>From the escaped line\n',
        relay:
          'from qa-1 (unknown [10.77.0.11]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) ' +
          '(Authenticated sender: alerts@lab.crvs.test) by mail.lab.crvs.test (Postfix) with ESMTPSA id 4B1C2 ' +
          'for <ops@lab.crvs.test>; Thu, 3 Dec 2026 15:27:24 +0000 (UTC)',
      },
      {
        received: '2026-12-04T01:00:03+00:00',
        from: 'crvs <noreply@lab.crvs.test>',
        to: ['ops@lab.crvs.test'],
        subject: 'the data disk (/data) is 71% full, 76.8 GB free (alert at 70%) on backup-1 (backup)',
        body: 'no new archive for 26 hours',
        relay: '',
      },
    ]);
  });

  it('a mailbox nothing was delivered to yet is empty, not an error', () => {
    expect(read(join(mkdtempSync(join(tmpdir(), 'crvs-mail-')), 'ops'))).toEqual([]);
  });
});
