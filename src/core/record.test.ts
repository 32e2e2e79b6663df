import { describe, expect, it } from 'vitest';
import { keyIdentity } from './record.js';

describe('keyIdentity', () => {
  it('tells text from numbers, and a number from its BigInt or boolean equal not', () => {
    expect(keyIdentity('1')).not.toBe(keyIdentity(1));
    expect(keyIdentity(1)).toBe(keyIdentity(1n));
    expect(keyIdentity(true)).toBe(keyIdentity(1));
    expect(keyIdentity(false)).toBe(keyIdentity(0));
    expect(keyIdentity({ a: 1 })).not.toBe(keyIdentity('{"a":1}'));
  });

  it('keeps text as it is, and text that could pass for another identity apart from it', () => {
    expect(keyIdentity('k00000001')).toBe('k00000001');
    const lookalikes = [keyIdentity(1), keyIdentity({ a: 1 }), keyIdentity('\u0000s:x')];
    for (const text of lookalikes) expect(keyIdentity(text)).not.toBe(text);
    expect(new Set([...lookalikes, ...lookalikes.map(keyIdentity), keyIdentity('x')]).size).toBe(7);
  });
});
