import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../core/errors.js';
import { isConnectionLost, isTransient, translateConnectError, translatePgError } from './errors.js';

const pgError = (code: string, message: string, detail?: string): Error => Object.assign(new Error(message), { code, detail });
const AT = 'postgres://u:***@h:5432/db';

describe('PostgreSQL errors', () => {
  it('tells transient errors from the rest', () => {
    expect(isTransient(pgError('40001', 'could not serialize access'))).toBe(true);
    expect(isTransient(pgError('40P01', 'deadlock detected'))).toBe(true);
    expect(isTransient(pgError('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransient(pgError('23505', 'duplicate key'))).toBe(false);
    expect(isTransient(pgError('22P02', 'invalid input syntax'))).toBe(false);
    expect(isConnectionLost(pgError('40001', 'x'))).toBe(false);
    expect(isTransient(new SluiceError('BACKEND_CONNECTION', 'wrapped', { cause: pgError('08006', 'x') }))).toBe(true);
  });

  it('turns a server error into one line with its SQLSTATE and where', () => {
    const error = translatePgError(pgError('23505', 'duplicate key value\nviolates', 'Key (id)=(1) already exists.'), AT, 'merging rows into t');
    expect(error.code).toBe('BACKEND_QUERY');
    expect(error.message).toBe(`PostgreSQL error while merging rows into t: duplicate key value violates (Key (id)=(1) already exists.) (SQLSTATE 23505 unique_violation) at ${AT}`);
    expect(translatePgError(pgError('53100', 'could not extend file'), AT).code).toBe('BACKEND_FULL');
    expect(translatePgError(pgError('57P01', 'terminating connection'), AT).message).toContain('(SQLSTATE 57P01 admin_shutdown)');
  });

  it('says plainly why a first connection failed', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 });
    expect(translateConnectError(refused, AT, 'u', 'db').message).toBe(`cannot connect to PostgreSQL at ${AT}: connection refused (is the server running and listening on 127.0.0.1:1?)`);
    expect(translateConnectError(pgError('28P01', 'password authentication failed for user "u"'), AT, 'u', 'db').message).toContain('password authentication failed (SQLSTATE 28P01)');
    expect(translateConnectError(pgError('3D000', 'database "db" does not exist'), AT, 'u', 'db').hint).toContain('createdb db');
    expect(translateConnectError(pgError('28P01', 'password authentication failed for user "u"'), AT, 'u', 'db').hint).toContain('PGPASSWORD');
    // pg's words when the server wants a password and the URL, PGPASSWORD and ~/.pgpass gave none.
    const none = translateConnectError(new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), AT, 'u', 'db');
    expect(none.message).toBe(`PostgreSQL at ${AT} asks user u for a password, and none was given`);
    expect(none.hint).toContain('PGPASSWORD');
  });
});
