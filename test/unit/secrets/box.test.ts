import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError } from '../../../src/platform/secrets/box.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-box-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretBox', () => {
  it('creates its key once, mode 0600, and opens what it sealed after being reopened', () => {
    const box = SecretBox.open(dir);
    const file = path.join(dir, 'secrets.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8');
    const sealed = box.seal('hunter2 ✓', 'T.password');
    expect(sealed).toMatch(/^enc:v1:/);
    expect(sealed).not.toContain('hunter2');
    expect(SecretBox.open(dir).open(sealed, 'T.password')).toBe('hunter2 ✓');
    expect(readFileSync(file, 'utf8')).toBe(key);
  });

  it('never seals the same text the same way (random IV)', () => {
    const box = SecretBox.fromKey(randomBytes(32));
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c'));
  });

  it('refuses another key, another column, and a tampered or truncated value', () => {
    const box = SecretBox.fromKey(randomBytes(32));
    const sealed = box.seal('secret', 'VpnConfiguration.password');
    expect(() => SecretBox.fromKey(randomBytes(32)).open(sealed, 'VpnConfiguration.password')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, 'Other.column')).toThrow(SecretBoxError);
    const raw = Buffer.from(sealed.slice('enc:v1:'.length), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`enc:v1:${raw.toString('base64')}`, 'VpnConfiguration.password')).toThrow(SecretBoxError);
    expect(() => box.open('enc:v1:AAAA', 'VpnConfiguration.password')).toThrow(/truncated/);
  });

  it('returns a value stored before encryption existed as it is', () => {
    expect(SecretBox.fromKey(randomBytes(32)).open('plain-old', 'c')).toBe('plain-old');
  });

  it('refuses a key file that does not hold a 256-bit key', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'mockiron-box-bad-'));
    try {
      (await import('node:fs')).writeFileSync(path.join(other, 'secrets.key'), 'c2hvcnQ=\n', { mode: 0o600 });
      expect(() => SecretBox.open(other)).toThrow(/256-bit/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
