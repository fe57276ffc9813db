import { describe, expect, it } from 'vitest';
import { archiveGlob, archiveName, newestArchive, parseArchiveName } from '../../../src/backup/naming.js';

describe('archive names', () => {
  it('puts the environment and the UTC start time in the name', () => {
    expect(archiveName('production', new Date('2027-01-01T00:00:00.250Z'))).toBe(
      'production-2027-01-01T00:00:00Z',
    );
    expect(archiveGlob('production')).toBe('production-*');
  });

  it.each([
    ['production-2027-01-01T00:00:00Z', { environment: 'production', time: '2027-01-01T00:00:00.000Z' }],
    ['my-env-2027-03-04T05:06:07Z', { environment: 'my-env', time: '2027-03-04T05:06:07.000Z' }],
    ['production-2027-01-01T00:00:00Z.checkpoint', undefined],
    ['production-2027-01-01T00:00:00Z.checkpoint.1', undefined],
    ['production-2027-13-01T00:00:00Z', undefined],
    ['production-2027-01-01', undefined],
    ['a1', undefined],
  ])('%s', (name, expected) => {
    const parsed = parseArchiveName(name);
    expect(parsed && { environment: parsed.environment, time: parsed.time.toISOString() }).toEqual(expected);
  });

  it('finds the newest archive of one environment, ignoring checkpoints and others', () => {
    const newest = newestArchive(
      [
        'production-2027-01-01T00:00:00Z',
        'production-2027-01-03T00:00:00Z.checkpoint',
        'production-2027-01-02T00:00:00Z',
        'staging-2027-01-05T00:00:00Z',
      ],
      'production',
    );
    expect(newest?.name).toBe('production-2027-01-02T00:00:00Z');
    expect(newestArchive([], 'production')).toBeUndefined();
  });
});
