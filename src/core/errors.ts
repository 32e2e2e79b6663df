/**
 * The one error type of sluice. Every failure a user can cause carries a code, names the thing
 * it is about (file, line, field, path), says what was expected and what was found, and, where
 * one exists, the command that repairs it. The CLI prints `message` (and `hint`), never a stack.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_FILE'
  | 'CONFIG_NO_INPUT'
  | 'CONFIG_NO_DATABASE'
  | 'DECODE_IO'
  | 'DECODE_UTF8'
  | 'DECODE_CSV'
  | 'DECODE_HEADER'
  | 'DECODE_JSON'
  | 'DECODE_GZIP'
  | 'DECODE_TOO_LARGE'
  | 'DECODE_BINARY'
  | 'VALIDATE_SCHEMA'
  | 'VALIDATE_TRANSFORM'
  | 'WATERMARK_INVALID'
  | 'WATERMARK_BACKWARDS'
  | 'BACKEND_LOCKED'
  | 'BACKEND_SCHEMA'
  | 'BACKEND_IO'
  | 'BACKEND_FULL'
  | 'BACKEND_QUERY'
  /** The target table refused a row it was given (a constraint, or a value its column type cannot hold). */
  | 'BACKEND_REFUSED'
  | 'BACKEND_CONNECTION'
  | 'EXPORT_WRITE'
  | 'EXPORT_VALIDATE'
  | 'EXPORT_INPUT'
  | 'RUN_INTERRUPTED'
  | 'RUN_NOT_FOUND'
  | 'DEAD_LETTER_NOT_FOUND';

export interface ErrorDetails {
  /** The command that repairs the problem, if there is one. */
  hint?: string;
  file?: string;
  line?: number;
  field?: string;
  /** Byte offset in `file`, where known. */
  offset?: number;
  cause?: unknown;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;
  readonly offset: number | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.hint = details.hint;
    this.file = details.file;
    this.line = details.line;
    this.field = details.field;
    this.offset = details.offset;
  }
}

export function isSluiceError(error: unknown): error is SluiceError {
  return error instanceof SluiceError;
}

/** Errors that mean "the invocation, configuration or input is wrong; nothing was written" (exit 2). */
export function isUsageError(error: SluiceError): boolean {
  return (
    error.code.startsWith('CONFIG_') ||
    error.code.startsWith('WATERMARK_') ||
    error.code === 'BACKEND_LOCKED' ||
    error.code === 'RUN_NOT_FOUND' ||
    error.code === 'DEAD_LETTER_NOT_FOUND'
  );
}

/** Errors that concern one input file: the run may skip that file and go on. */
export function isFileError(error: SluiceError): boolean {
  return error.code.startsWith('DECODE_');
}

/** Plain words for an errno, for one-line messages such as `cannot write x: permission denied`. */
export function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EEXIST':
      return 'file already exists';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
