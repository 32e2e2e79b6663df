/**
 * Test hooks for crash safety: `SLUICE_TEST_CRASH_AT=before-commit:3` kills the process with
 * SIGKILL the 3rd time a batch reaches the point just before its COMMIT (`after-commit`: just
 * after). Tests use it to kill exactly around the commit; it is inert unless the variable is set.
 */
export type CrashPoint = 'before-commit' | 'after-commit';

const spec = parse(process.env.SLUICE_TEST_CRASH_AT);
const seen = new Map<CrashPoint, number>();

function parse(value: string | undefined): { point: CrashPoint; at: number } | null {
  const match = /^(before-commit|after-commit)(?::(\d+))?$/.exec(value ?? '');
  return match ? { point: match[1] as CrashPoint, at: Number(match[2] ?? 1) } : null;
}

export function crashPoint(point: CrashPoint): void {
  if (spec === null || spec.point !== point) return;
  const count = (seen.get(point) ?? 0) + 1;
  seen.set(point, count);
  if (count === spec.at) process.kill(process.pid, 'SIGKILL');
}
