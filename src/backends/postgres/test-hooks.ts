import pg from 'pg';
import type { PgSession } from './session.js';

/**
 * Test hook for lost connections: `SLUICE_TEST_PG_TERMINATE=copy:3` has the server end this
 * session (pg_terminate_backend, from a second connection) the 3rd time a COPY is half sent;
 * `before-commit:N` just before the Nth COMMIT; `after-commit:N` just after it, reporting the
 * reply as lost (the "did it commit?" case). Inert unless the variable is set.
 */
export type HookPoint = 'copy' | 'before-commit' | 'after-commit';

const spec = parse(process.env.SLUICE_TEST_PG_TERMINATE);
const seen = new Map<HookPoint, number>();

function parse(value: string | undefined): { point: HookPoint; at: number } | null {
  const match = /^(copy|before-commit|after-commit)(?::(\d+))?$/.exec(value ?? '');
  return match ? { point: match[1] as HookPoint, at: Number(match[2] ?? 1) } : null;
}

export async function testHook(point: HookPoint, session: PgSession): Promise<void> {
  if (spec === null || spec.point !== point) return;
  const count = (seen.get(point) ?? 0) + 1;
  seen.set(point, count);
  if (count !== spec.at) return;
  await terminate(session);
  if (point === 'after-commit') {
    session.markLost();
    throw Object.assign(new Error('Connection terminated unexpectedly (test hook: COMMIT reply lost)'), {});
  }
}

/** Ends the session from the server side and waits until it is gone. */
async function terminate(session: PgSession): Promise<void> {
  const side = new pg.Client({ connectionString: session.target.connectionString });
  await side.connect();
  try {
    await side.query('SELECT pg_terminate_backend($1)', [session.backendPid]);
    for (let i = 0; i < 200; i += 1) {
      const alive = await side.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [session.backendPid]);
      if (alive.rowCount === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await side.end();
  }
}
