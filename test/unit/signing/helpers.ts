// Shared test helpers: temp directories and OpenSSL as the independent judge of our output.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/signed-profiles/', import.meta.url));

export function fixture(path: string): Buffer {
  return readFileSync(join(FIXTURES, path));
}

/** ISRG Root X1 from Node's bundled store: the anchor of the encrypted-dns fixtures' chain. */
export const ISRG_ROOT_X1 = rootCertificates.map((pem) => new X509Certificate(pem)).find((c) => c.subject.includes('CN=ISRG Root X1'))!;

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'mockiron-signing-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: Buffer } = {}): RunResult {
  const result = spawnSync(command, args, { env: options.env ?? process.env, input: options.input, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `openssl cms -verify` on DER input against one CA file. Returns the verified content on
 * success, or the exit status and stderr on failure.
 */
export function opensslCmsVerify(
  dir: string,
  signed: Buffer,
  caPem: string,
  options: { detachedContent?: Buffer; purposeAny?: boolean } = {},
): { ok: boolean; content?: Buffer; stderr: string } {
  const inFile = join(dir, `judge-${Math.random().toString(36).slice(2)}.p7m`);
  const caFile = `${inFile}.ca.pem`;
  const outFile = `${inFile}.out`;
  writeFileSync(inFile, signed);
  writeFileSync(caFile, caPem);
  const args = ['cms', '-verify', '-inform', 'DER', '-in', inFile, '-CAfile', caFile, '-out', outFile, '-binary'];
  if (options.purposeAny !== false) args.push('-purpose', 'any');
  if (options.detachedContent) {
    writeFileSync(`${inFile}.content`, options.detachedContent);
    args.push('-content', `${inFile}.content`);
  }
  const result = run('openssl', args);
  return result.status === 0 ? { ok: true, content: readFileSync(outFile), stderr: result.stderr } : { ok: false, stderr: result.stderr };
}

/** A ~2 KB configuration profile plist, like the ones the server will sign. */
export function samplePlist(name = 'Example'): Buffer {
  const payloads = Array.from(
    { length: 6 },
    (_, i) => `
    <dict>
      <key>PayloadType</key><string>com.apple.vpn.managed.applayer</string>
      <key>PayloadIdentifier</key><string>com.example.vpn.${i}</string>
      <key>PayloadUUID</key><string>0000000${i}-1111-2222-3333-444444444444</string>
      <key>PayloadVersion</key><integer>1</integer>
    </dict>`,
  ).join('');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadDisplayName</key><string>${name}</string>
  <key>PayloadContent</key>
  <array>${payloads}
  </array>
  <key>PayloadIdentifier</key><string>com.example.profile</string>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>5E0C1B5A-2D3B-4A6C-9E1F-0A1B2C3D4E5F</string>
  <key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
`);
}
