import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { byAbsolutePath, forgets } from './rereads.js';

describe('forgets', () => {
  const mark = { pipeline: 'p', afterRun: 5, reason: 'watermark ts reset', createdAt: '2026-01-01T00:00:00Z' };

  it('a run after the mark reads again what runs up to the mark loaded', () => {
    expect(forgets(mark, 6, 5)).toBe(true);
    expect(forgets(mark, 9, 1)).toBe(true);
  });

  it('keeps what runs after the mark loaded, and the plan of a run started before it (resumed)', () => {
    expect(forgets(mark, 7, 6)).toBe(false);
    expect(forgets(mark, 5, 3)).toBe(false);
    expect(forgets(mark, 4, 3)).toBe(false);
  });

  it('no mark: nothing is read again', () => {
    expect(forgets(null, 6, 1)).toBe(false);
  });
});

describe('byAbsolutePath', () => {
  it('keys entries stored with relative paths by the absolute path, the newest entry winning', () => {
    const absolute = path.resolve('in/a.csv');
    const stored = new Map([
      [absolute, { runId: 3 }],
      ['in/a.csv', { runId: 2 }],
      ['./in/b.csv', { runId: 1 }],
      [path.resolve('in/b.csv'), { runId: 4 }],
      ['/elsewhere/c.csv', { runId: 5 }],
    ]);
    expect(byAbsolutePath(stored)).toEqual(
      new Map([
        [absolute, { runId: 3 }],
        [path.resolve('in/b.csv'), { runId: 4 }],
        ['/elsewhere/c.csv', { runId: 5 }],
      ]),
    );
  });
});
