import { describe, expect, it } from 'vitest';
import { judgeCursor } from './watermark.js';

describe('judgeCursor', () => {
  const spec = (type: 'timestamp' | 'integer' | 'number') => ({ field: 'seq', type });

  it('admits a valid cursor and skips one older than the start', () => {
    expect(judgeCursor({ seq: '2025-01-02T00:00:00Z' }, spec('timestamp'), null)).toMatchObject({ kind: 'admit', boundary: false });
    const start = judgeCursor({ seq: 5 }, spec('integer'), null);
    if (start.kind !== 'admit') throw new Error('expected admit');
    expect(judgeCursor({ seq: '4' }, spec('integer'), start.cursor)).toEqual({ kind: 'skip' });
    expect(judgeCursor({ seq: '5' }, spec('integer'), start.cursor)).toMatchObject({ kind: 'admit', boundary: true });
  });

  it('a number where a timestamp is expected says how to declare a numeric cursor', () => {
    for (const raw of ['9', 10, ' 3.5 ']) {
      expect(judgeCursor({ seq: raw }, spec('timestamp'), null)).toEqual({
        kind: 'reject',
        rejection: {
          reason: 'invalid_cursor',
          field: 'seq',
          message: expect.stringContaining('(a numeric cursor must be declared: --type seq=integer or =number)') as unknown as string,
        },
      });
    }
    const text = judgeCursor({ seq: 'soon' }, spec('timestamp'), null);
    expect(text).toMatchObject({ rejection: { message: 'cursor field seq: expected an ISO-8601 timestamp, found "soon"' } });
    expect(judgeCursor({ seq: 'x' }, spec('integer'), null)).toMatchObject({ rejection: { message: 'cursor field seq: expected an integer, found "x"' } });
  });
});
