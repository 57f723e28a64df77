// Real installers and real multipart bodies for the app-store tests: an .ipa is built with fflate
// (a zip with Payload/<Name>.app/Info.plist), and bodies are framed the way Ruby's
// multipart-post (under Faraday's :multipart middleware) frames them.
import { randomBytes } from 'node:crypto';
import { zipSync, type Zippable } from 'fflate';
import { toXmlPlist, type PlistDict } from '../../src/lib/plist/index.js';
import { bplist, dictObject } from './hostile-plists.js';

export interface IpaOptions {
  bundleId?: string;
  name?: string;
  shortVersion?: string;
  build?: string;
  /** The folder under Payload/ (default <name>.app). */
  appFolder?: string;
  /** The Info.plist's bytes as given (default: an XML plist of the fields above). */
  infoPlist?: Uint8Array;
  /** More entries, by path. */
  extra?: Record<string, Uint8Array>;
}

export function infoPlistXml(fields: PlistDict): Buffer {
  return Buffer.from(toXmlPlist(fields), 'utf8');
}

/** An ASCII string object of up to 255 characters (a length of 15 or more follows as an int object). */
const ascii = (text: string) =>
  Buffer.concat([Buffer.from(text.length < 15 ? [0x50 | text.length] : [0x5f, 0x10, text.length]), Buffer.from(text, 'latin1')]);

/** A binary (bplist00) Info.plist of ASCII string values. */
export function infoPlistBinary(fields: Record<string, string>): Buffer {
  const entries = Object.entries(fields);
  const n = entries.length;
  const keys = entries.map((_, i) => 1 + i);
  const values = entries.map((_, i) => 1 + n + i);
  return bplist([dictObject(keys, values), ...entries.map(([k]) => ascii(k)), ...entries.map(([, v]) => ascii(v))]);
}

export function buildIpa(opts: IpaOptions = {}): Buffer {
  const name = opts.name ?? 'Field Notes';
  const folder = `Payload/${opts.appFolder ?? `${name.replace(/\s+/g, '')}.app`}`;
  const info =
    opts.infoPlist ??
    infoPlistXml({
      CFBundleIdentifier: opts.bundleId ?? 'com.example.fieldnotes',
      CFBundleName: name,
      CFBundleShortVersionString: opts.shortVersion ?? '1.4.2',
      CFBundleVersion: opts.build ?? '142',
      MinimumOSVersion: '15.0',
    });
  const files: Zippable = {
    [`${folder}/Info.plist`]: info,
    [`${folder}/FieldNotes`]: randomBytes(2048),
    [`${folder}/_CodeSignature/CodeResources`]: Buffer.from('<plist/>'),
    ...(opts.extra ?? {}),
  };
  return Buffer.from(zipSync(files, { level: 6 }));
}

export type Part = { name: string; value: string } | { name: string; filename: string; contentType: string; data: Buffer };

/** A multipart/form-data body framed as multipart-post frames it: its boundary style and part headers. */
export function rubyMultipart(parts: Part[]): { contentType: string; body: Buffer } {
  const boundary = `-----------RubyMultipartPost-${randomBytes(16).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    if ('value' in p) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\n` +
            `Content-Length: ${p.data.length}\r\nContent-Type: ${p.contentType}\r\nContent-Transfer-Encoding: binary\r\n\r\n`,
        ),
        p.data,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
