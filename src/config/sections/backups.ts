import { z } from 'zod';
import { cron } from './common.js';
import { doc } from './doc.js';

export const backupsSchema = doc(
  z
    .strictObject({
      engine: doc(
        z.enum(['borg']).default('borg'),
        'Backup engine: BorgBackup (encrypted, deduplicated, append-only repositories over SSH).',
        'borg',
      ),
      source: doc(
        z.enum(['production']).default('production'),
        'Environment that is backed up.',
        'production',
      ),
      target: doc(
        z.enum(['backup']).default('backup'),
        'Environment that stores the encrypted backups.',
        'backup',
      ),
      schedule: doc(
        cron.default('0 0 * * *'),
        'When the backup runs (five-field cron, server time, UTC; hourly is allowed). Converted to a systemd timer.',
        '0 0 * * *',
      ),
      forwardJournal: doc(
        z.boolean().default(true),
        "Forward the systemd journal of every server of the backup source and of the environments that restore it to the backup server, every 10 seconds over SSH. Each server's key may only append to that server's own journal file there (/var/log/crvs-journal/<server>.journal), so a server taken over cannot rewrite what it logged before, nor log as another server.",
        true,
      ),
      retention: doc(
        z
          .strictObject({
            daily: doc(z.int().min(1).default(7), 'Daily archives kept.', 7),
            weekly: doc(z.int().min(0).default(4), 'Weekly archives kept.', 4),
            monthly: doc(z.int().min(0).default(12), 'Monthly archives kept.', 12),
          })
          .default({ daily: 7, weekly: 4, monthly: 12 }),
        'How many archives are kept. Pruning needs the repository key, so it runs where the secrets store is (crvs backup prune), never on production or the backup server.',
        { daily: 7, weekly: 4, monthly: 12 },
      ),
    })
    .optional(),
  'Encrypted off-site backups of production. Required when production holds citizen data.',
  { schedule: '0 0 * * *', retention: { daily: 7, weekly: 4, monthly: 12 } },
);
