/**
 * ISO-8601 timestamps as cursor values. A timestamp without an offset means UTC. The sortable
 * form is canonical UTC text with nanosecond precision (`2025-01-15T12:00:00.000000000Z`), so
 * sub-millisecond cursors still compare correctly as text in every backend.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** `YYYY-MM-DDTHH:MM:SS` (the common case) at fixed positions, checked without a regex. */
const PLAIN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

export function canonicalTimestamp(text: string): string | null {
  if (text.length === 19 && PLAIN.test(text)) return plainTimestamp(text);
  // `...:SSZ` is the same UTC time as the plain form.
  if (text.length === 20 && (text.endsWith('Z') || text.endsWith('z'))) {
    const plain = text.slice(0, 19);
    if (PLAIN.test(plain)) return plainTimestamp(plain);
  }
  return fullTimestamp(text);
}

/** Without an offset the text is already UTC: only the ranges need checking. */
function plainTimestamp(text: string): string | null {
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (digitsAt(text, 11, 2) > 23 || digitsAt(text, 14, 2) > 59 || digitsAt(text, 17, 2) > 59) return null;
  return `${text}.000000000Z`;
}

/** The number written by `count` ASCII digits at `at` (PLAIN checked they are digits). */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i += 1) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

function fullTimestamp(text: string): string | null {
  const m = ISO.exec(text.trim());
  if (m === null) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offsetMinutes = parseOffset(zone);
  if (offsetMinutes === null) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const utc = new Date(date.getTime() - offsetMinutes * 60_000);
  if (utc.getUTCFullYear() < 0 || utc.getUTCFullYear() > 9999) return null;
  return `${utc.toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS[month - 1] as number);
}

function parseOffset(zone: string | undefined): number | null {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}
