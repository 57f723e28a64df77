// Secrets the server must be able to read back (a VPN configuration's password goes into the
// profile) are stored encrypted: AES-256-GCM under a key kept in the data directory (mode 0600),
// so a copy of the database alone does not give them away. The stored form is
// "enc:v1:" + base64(iv ‖ tag ‖ ciphertext); the column name is bound in as associated data,
// so a value cannot be moved to another column and still decrypt.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What every sealed value starts with (stores use it to find values still in clear). */
export const SEALED_PREFIX = 'enc:v1:';
const KEY_FILE = 'secrets.key';

export class SecretBoxError extends Error {}

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The data directory's key, created on first use. */
  static open(dataDir: string): SecretBox {
    const file = path.join(dataDir, KEY_FILE);
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new SecretBoxError(`${file} does not hold a 256-bit key`);
    return new SecretBox(key);
  }

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new SecretBoxError('the key must be 32 bytes');
    return new SecretBox(Buffer.from(key));
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(SEALED_PREFIX);
  }

  /** A 256-bit key for one deterministic use (e.g. identity SCEP challenges), derived from the box's key and the label. */
  derivedKey(label: string): Buffer {
    return createHmac('sha256', this.key).update(`mockiron/derived-key/${label}`, 'utf8').digest();
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plaintext of a sealed value; a value stored before encryption existed is returned as is. */
  open(stored: string, context: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64');
    if (raw.length < 28) throw new SecretBoxError(`a sealed ${context} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`cannot decrypt a stored ${context}: the data directory's ${KEY_FILE} is not the key it was sealed with`);
    }
  }
}
