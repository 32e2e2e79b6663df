/** Wording shared by the decoders, so every message says things the same way. */
import { SluiceError } from '../../core/errors.js';

/** `16 MiB`, `1 KiB`, `1500 bytes`: exact, in the unit the limit was most likely set in. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** A record larger than --max-record-bytes: stop the file rather than buffer without bound. */
export function recordTooLarge(file: string, line: number, offset: number | undefined, max: number): SluiceError {
  return new SluiceError(
    'DECODE_TOO_LARGE',
    `${file}: line ${line}: record exceeds ${formatBytes(max)}, the limit for one record (a missing line end or closing quote?); raise --max-record-bytes if the record is genuine`,
    { file, line, offset },
  );
}

/** A short, printable excerpt of what was found, for "expected X, found Y" messages. */
export function describeFound(text: string): string {
  if (text.length === 0) return 'the end of the file';
  const excerpt = text.length > 20 ? `${text.slice(0, 20)}…` : text;
  return JSON.stringify(excerpt);
}
