import { describe, expect, it } from 'vitest';
import { environmentsToProvision } from '../../../src/usecases/provision.js';
import { exampleSpec, labExample } from '../helpers/spec.js';

describe('the environments a provisioning run covers', () => {
  it('--all is every environment of the spec, production first, the backup and jump hosts last', () => {
    expect(environmentsToProvision(labExample(), [], true)).toEqual([
      'production',
      'staging',
      'qa',
      'backup',
      'jump',
    ]);
    expect(environmentsToProvision(exampleSpec('poc'), [], true)).toEqual(['qa']);
  });

  it('named environments are taken as given', () => {
    expect(environmentsToProvision(labExample(), ['qa', 'jump'], false)).toEqual(['qa', 'jump']);
  });

  it('refuses both or neither, saying what to do', () => {
    expect(() => environmentsToProvision(labExample(), ['qa'], true)).toThrow(
      'name environments or give --all, not both (named: qa)',
    );
    expect(() => environmentsToProvision(labExample(), [], false)).toThrow(
      'name the environments to provision, or give --all for every one in the spec',
    );
  });
});
