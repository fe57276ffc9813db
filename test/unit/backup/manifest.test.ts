import { describe, expect, it } from 'vitest';
import {
  attachmentListDigest,
  compareWithManifest,
  parseManifest,
  renderManifest,
} from '../../../src/backup/manifest.js';
import { MANIFEST } from './fixtures.js';

describe('attachment list digest', () => {
  // Same values as `printf 'documents/a\ndocuments/b\n' | sha256sum` and as the backup runner's list_digest().
  it.each([
    [['documents/b', 'documents/a'], '1158a4ef1a49cc0854bdad0720fe1af3e42597925e5836b0d2db6400edaded3b'],
    [[], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    [
      ['documents/é', 'documents/a', 'documents/Z'],
      '2e76cd478a4375a948bffa0e6004c02dc2e008e6cd91e95c4f20a41159dcdd2d',
    ],
  ])('%j', (paths, digest) => {
    expect(attachmentListDigest(paths)).toBe(digest);
  });
});

describe('manifest', () => {
  it('renders and parses back', () => {
    const text = renderManifest(MANIFEST);
    expect(text.startsWith('{\n  "format": 1,\n  "environment": "production",\n')).toBe(true);
    expect(text.endsWith('\n  "complete": true\n}\n')).toBe(true);
    expect(parseManifest(text)).toEqual({ ok: true, manifest: MANIFEST });
  });

  it.each([
    ['not json', 'the manifest is not JSON: '],
    [JSON.stringify({ ...MANIFEST, format: 2 }), 'unknown manifest format 2'],
    [JSON.stringify({ ...MANIFEST, release: '' }), 'the manifest has no release'],
    [JSON.stringify({ ...MANIFEST, startedAt: 'yesterday' }), 'startedAt yesterday is not a time'],
    [JSON.stringify({ ...MANIFEST, complete: false }), 'the manifest does not say the backup was complete'],
    [
      JSON.stringify({ ...MANIFEST, stores: [{ ...MANIFEST.stores[0], records: { x: -1 } }] }),
      'store postgres has malformed record counts',
    ],
    [
      JSON.stringify({ ...MANIFEST, attachments: { ...MANIFEST.attachments, listSha256: 'abc' } }),
      'the manifest has malformed attachment totals',
    ],
    [JSON.stringify({ ...MANIFEST, totalBytes: 1 }), 'totalBytes 1 is not the sum of its parts (65480)'],
  ])('refuses %#', (text, problem) => {
    const r = parseManifest(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem.slice(0, problem.length)).toBe(problem);
  });
});

describe('comparing a restore with its manifest', () => {
  const seen = {
    stores: [{ name: 'postgres', records: { 'public.records': 2500, 'public.users': 2 } }],
    attachments: { count: 2, listSha256: MANIFEST.attachments.listSha256 },
  };

  it('agrees when everything came back', () => {
    expect(compareWithManifest(MANIFEST, seen)).toEqual([]);
  });

  it('names every difference', () => {
    expect(
      compareWithManifest(MANIFEST, {
        stores: [
          {
            name: 'postgres',
            records: { 'public.records': 2499, 'public.users': 2, 'public.extra': 1 },
            bytes: 1,
            sha256: '0'.repeat(64),
          },
        ],
        attachments: { count: 2, listSha256: '1'.repeat(64) },
      }),
    ).toEqual([
      `postgres: sha256 ${'0'.repeat(64)} differs from the manifest's 50289230fad0c8a94beb03f783bf5dbfb82cce342c5b7d7b417f2eb132654cf9`,
      'postgres: 1 bytes, the manifest says 50480',
      'postgres.public.extra: 1 records, the manifest says 0',
      'postgres.public.records: 2499 records, the manifest says 2500',
      'attachments: the list of files differs from the manifest (same count, other names)',
    ]);
    expect(compareWithManifest(MANIFEST, { stores: [], attachments: { count: 1, listSha256: '' } })).toEqual([
      'postgres: not restored',
      'attachments: 1 files, the manifest says 2',
    ]);
  });
});
