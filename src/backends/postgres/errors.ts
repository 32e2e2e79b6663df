import { SluiceError, isSluiceError } from '../../core/errors.js';

/** What node-pg and the socket layer put on an error. */
interface PgErrorFields {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
}

/** Names of the SQLSTATEs users meet, so a message says more than five characters. */
const SQLSTATE_NAMES: Readonly<Record<string, string>> = {
  '08000': 'connection_exception',
  '08001': 'sqlclient_unable_to_establish_sqlconnection',
  '08003': 'connection_does_not_exist',
  '08006': 'connection_failure',
  '0A000': 'feature_not_supported',
  '21000': 'cardinality_violation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22021': 'character_not_in_repertoire',
  '22P02': 'invalid_text_representation',
  '22P04': 'bad_copy_file_format',
  '23505': 'unique_violation',
  '25006': 'read_only_sql_transaction',
  '28000': 'invalid_authorization_specification',
  '28P01': 'invalid_password',
  '3D000': 'invalid_catalog_name',
  '3F000': 'invalid_schema_name',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42701': 'duplicate_column',
  '42703': 'undefined_column',
  '42804': 'datatype_mismatch',
  '42P01': 'undefined_table',
  '42P07': 'duplicate_table',
  '53100': 'disk_full',
  '53200': 'out_of_memory',
  '53300': 'too_many_connections',
  '54000': 'program_limit_exceeded',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
};

/** Socket errors that mean the session is gone (its transaction rolled back, its locks released). */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** SQLSTATEs after which the server has closed the session. */
const SESSION_LOST = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** node-pg reports a dropped socket in words, without a code. */
const LOST_WORDS = /connection terminated|not queryable|connection ended|terminating connection|server closed the connection|socket hang up/i;

function rawOf(error: unknown): PgErrorFields {
  const inner = isSluiceError(error) && error.cause !== undefined ? error.cause : error;
  return (typeof inner === 'object' && inner !== null ? inner : { message: String(inner) }) as PgErrorFields;
}

export function sqlstateOf(error: unknown): string | null {
  const code = rawOf(error).code;
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** The connection is gone: reconnect before doing anything else. */
export function isConnectionLost(error: unknown): boolean {
  const raw = rawOf(error);
  if (raw.code !== undefined && (SOCKET_CODES.has(raw.code) || SESSION_LOST.has(raw.code))) return true;
  return raw.code === undefined && LOST_WORDS.test(raw.message ?? '');
}

/**
 * Worth trying again: the transaction was rolled back by the server (serialization failure,
 * deadlock) or the connection dropped. Anything else (a constraint, a bad value) fails again.
 */
export function isTransient(error: unknown): boolean {
  const state = sqlstateOf(error);
  return state === '40001' || state === '40P01' || state === '53300' || isConnectionLost(error);
}

function oneLine(text: string | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

/** `SQLSTATE 23505 unique_violation`, for the end of a message. */
export function stateLabel(code: string): string {
  const name = SQLSTATE_NAMES[code];
  return name === undefined ? `SQLSTATE ${code}` : `SQLSTATE ${code} ${name}`;
}

/**
 * Any error from node-pg as a one-line SluiceError that names the server (URL without its
 * password) and carries the SQLSTATE. A SluiceError passes through unchanged.
 */
export function translatePgError(error: unknown, location: string, doing?: string): SluiceError {
  if (isSluiceError(error)) return error;
  const raw = rawOf(error);
  const state = sqlstateOf(error);
  const what = doing === undefined ? '' : ` while ${doing}`;
  if (state === '53100') {
    return new SluiceError('BACKEND_FULL', `PostgreSQL at ${location}: disk full${what}; the batch in flight was rolled back (${stateLabel(state)})`, {
      hint: 'free space on the database server, then run the same command again: it resumes from the last checkpoint',
      cause: error,
    });
  }
  if (isConnectionLost(error)) {
    // node-pg's own words for a socket it already saw close say nothing to a user.
    const reason = raw.code === undefined ? 'the server closed the connection' : oneLine(raw.message) || 'connection lost';
    const label = state === null ? (raw.code ?? 'connection lost') : stateLabel(state);
    return new SluiceError('BACKEND_CONNECTION', `lost the connection to PostgreSQL at ${location}${what}: ${reason} (${label})`, {
      hint: 'run the same command again when the server is reachable: the run resumes from its last committed batch',
      cause: error,
    });
  }
  const detail = oneLine(raw.detail);
  const message = `PostgreSQL error${what}: ${oneLine(raw.message)}${detail === '' ? '' : ` (${detail})`} (${state === null ? 'no SQLSTATE' : stateLabel(state)}) at ${location}`;
  return new SluiceError('BACKEND_QUERY', message, { cause: error, ...(raw.hint ? { hint: oneLine(raw.hint) } : {}) });
}

/** Errors of the first connect, in plain words: refused, unknown host, wrong password, no database. */
export function translateConnectError(error: unknown, location: string, user: string, database: string): SluiceError {
  const raw = rawOf(error);
  const state = sqlstateOf(error);
  const at = `PostgreSQL at ${location}`;
  const hint = { hint: 'check the --db URL (or SLUICE_DB) and that the server is running', cause: error };
  switch (state ?? raw.code) {
    case 'ECONNREFUSED':
      return new SluiceError('BACKEND_CONNECTION', `cannot connect to ${at}: connection refused (is the server running and listening on ${raw.address ?? 'that host'}:${raw.port ?? 'that port'}?)`, hint);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SluiceError('BACKEND_CONNECTION', `cannot connect to ${at}: unknown host`, hint);
    case 'ETIMEDOUT':
      return new SluiceError('BACKEND_CONNECTION', `cannot connect to ${at}: timed out`, hint);
    case '28P01':
      return new SluiceError('BACKEND_CONNECTION', `${at} refused the login of user ${user}: password authentication failed (SQLSTATE 28P01)`, {
        hint: 'check the password in the --db URL (or SLUICE_DB), PGPASSWORD or ~/.pgpass',
        cause: error,
      });
    case '28000':
      return new SluiceError('BACKEND_CONNECTION', `${at} refused the login of user ${user}: ${oneLine(raw.message)} (SQLSTATE 28000)`, hint);
    case '3D000':
      return new SluiceError('BACKEND_CONNECTION', `${at}: database ${database} does not exist (SQLSTATE 3D000)`, {
        hint: `create it (createdb ${database}) or fix the database name in --db`,
        cause: error,
      });
    default:
      // The driver's words when the server asks for a password and none was given.
      if (raw.message !== undefined && /client password must be a string/i.test(raw.message)) {
        return new SluiceError('BACKEND_CONNECTION', `${at} asks user ${user} for a password, and none was given`, {
          hint: 'put it in the --db URL (postgres://user:password@host/db), or set PGPASSWORD, or add it to ~/.pgpass',
          cause: error,
        });
      }
      if (raw.message !== undefined && /timeout/i.test(raw.message)) {
        return new SluiceError('BACKEND_CONNECTION', `cannot connect to ${at}: timed out`, hint);
      }
      return new SluiceError('BACKEND_CONNECTION', `cannot connect to ${at}: ${oneLine(raw.message)}${state === null ? '' : ` (${stateLabel(state)})`}`, hint);
  }
}
