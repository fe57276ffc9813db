import { describe, expect, it } from 'vitest';
import { chooseTotpStep, keptLogins } from '../../../src/lab/login.js';

// `crvs lab ssh` on a TOTP server: the servers accept each code once (DISALLOW_REUSE), one step of skew either side
// (WINDOW_SIZE 3) and three logins per 30 s (RATE_LIMIT 3 30). The lab must never type a code they refuse.
const STEP = 30_000;
const t = 56_000_000; // a step number
const at = (step: number, second: number) => step * STEP + second * 1000;

describe('chooseTotpStep', () => {
  it('types the current code first, then the next, then the previous', () => {
    const now = at(t, 10);
    expect(chooseTotpStep([], now)).toEqual({ step: t });
    expect(chooseTotpStep([{ step: t, at: now - 2000 }], now)).toEqual({ step: t + 1 });
    expect(
      chooseTotpStep(
        [
          { step: t, at: now - 2000 },
          { step: t + 1, at: now - 1000 },
        ],
        now,
      ),
    ).toEqual({ step: t - 1 });
  });

  it('does not type the previous code in the last 5 s of a step: it waits for the next step', () => {
    const now = at(t, 26);
    const previous = [
      { step: t, at: now - 2000 },
      { step: t + 1, at: now - 1000 },
    ];
    expect(chooseTotpStep(previous, now)).toEqual({ waitMs: 4100 });
    // In the next step, t + 2 is free.
    expect(chooseTotpStep(previous, at(t + 1, 0) + 100)).toEqual({ step: t + 2 });
  });

  it('waits out the rate limit: a fourth login within 30 s would be refused whatever its code', () => {
    const previous = [
      { step: t - 1, at: at(t, 1) },
      { step: t, at: at(t, 2) },
      { step: t + 1, at: at(t, 3) },
    ];
    expect(chooseTotpStep(previous, at(t, 29))).toEqual({ waitMs: 3000 });
    expect(chooseTotpStep(previous, at(t + 1, 2))).toEqual({ step: t + 2 });
  });

  it('forgets logins once neither their step nor the rate window can matter', () => {
    const logins = [
      { step: t - 3, at: at(t - 3, 0) },
      { step: t, at: at(t, 0) },
    ];
    expect(keptLogins(logins, at(t, 10))).toEqual([{ step: t, at: at(t, 0) }]);
  });
});
