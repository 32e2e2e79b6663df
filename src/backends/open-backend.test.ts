import { describe, expect, it } from 'vitest';
import { redact } from './open-backend.js';

describe('redact', () => {
  it('hides a password in the user part and in a password= parameter, nothing else', () => {
    expect(redact('postgres://loader:s3cret@db:5432/warehouse?schema=drops')).toBe('postgres://loader:***@db:5432/warehouse?schema=drops');
    expect(redact('postgres://loader@db/warehouse?password=s3cret&schema=drops')).toBe('postgres://loader@db/warehouse?password=***&schema=drops');
    expect(redact('postgresql://loader@db/warehouse?sslmode=require&PASSWORD=s3cret')).toBe('postgresql://loader@db/warehouse?sslmode=require&PASSWORD=***');
    expect(redact('postgres://loader@db/warehouse')).toBe('postgres://loader@db/warehouse');
    expect(redact('data/sluice.db')).toBe('data/sluice.db');
  });
});
