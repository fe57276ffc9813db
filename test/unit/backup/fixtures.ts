import type { Manifest } from '../../../src/backup/manifest.js';

// The manifest the backup runner wrote for the demo preset on a loopback repository (counts of a stand-in dump).
export const MANIFEST: Manifest = {
  format: 1,
  environment: 'production',
  archive: 'production-2027-01-01T00:00:00Z',
  release: 'v1.4.2',
  startedAt: '2027-01-01T00:00:00Z',
  stores: [
    {
      name: 'postgres',
      path: 'run/crvs-backup/postgres-crvs.sql',
      records: { 'public.records': 2500, 'public.users': 2 },
      bytes: 50480,
      sha256: '50289230fad0c8a94beb03f783bf5dbfb82cce342c5b7d7b417f2eb132654cf9',
    },
  ],
  attachments: {
    count: 2,
    bytes: 15000,
    listSha256: '1158a4ef1a49cc0854bdad0720fe1af3e42597925e5836b0d2db6400edaded3b',
  },
  totalBytes: 65480,
  complete: true,
};
