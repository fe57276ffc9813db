// A named cross-field rule of the spec: it reports every problem it finds, as errors or warnings, by YAML path.
import type { PathSegment } from './positions.js';
import type { Spec } from './schema.js';

export interface RuleProblem {
  severity: 'error' | 'warning';
  rule: string;
  path: PathSegment[];
  message: string;
  hint?: string;
}

export interface RuleContext {
  spec: Spec;
  error(path: PathSegment[], message: string, hint?: string): void;
  warn(path: PathSegment[], message: string, hint?: string): void;
}

export interface Rule {
  name: string;
  check(ctx: RuleContext): void;
}
