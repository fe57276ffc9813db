import type { z } from 'zod';

/**
 * Attach the documentation every key must carry: a description and at least one example.
 * The JSON Schema and the reference docs are generated from these, so they cannot drift.
 */
export function doc<T extends z.ZodType>(schema: T, description: string, example: unknown): T {
  return schema.meta({ description, examples: [example] }) as T;
}
