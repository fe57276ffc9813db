// The project phases, on their own: the CLI offers them as option choices in its help, which must not load zod.
export const PHASES = ['poc', 'pilot', 'national'] as const;
export type Phase = (typeof PHASES)[number];
