import { z } from 'zod';
import { doc } from './doc.js';

export { PHASES, type Phase } from '../phases.js';

export const sizingFields = {
  population: doc(
    z.int().min(1).max(2_000_000_000),
    'Population covered by the registration system.',
    30_000_000,
  ),
  birthRate: doc(
    z.number().min(0).max(100).default(17.299),
    'Crude birth rate per 1000 people per year.',
    17.299,
  ),
  deathRate: doc(z.number().min(0).max(100).default(7.7), 'Crude death rate per 1000 people per year.', 7.7),
  attachmentsPerRecord: doc(
    z.number().min(0).max(50).default(3),
    'Average supporting documents per record.',
    3,
  ),
  years: doc(z.int().min(1).max(50).default(1), 'Years of records the disks must hold.', 1),
};

export const sizingSchema = doc(
  z.strictObject(sizingFields).optional(),
  'Population figures used to size the disks and the production cluster (crvs plan).',
  { population: 30_000_000, birthRate: 17.299, deathRate: 7.7, attachmentsPerRecord: 3, years: 1 },
);
