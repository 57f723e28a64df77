// The .ipa reader (src/lib/ipa) on archives built with fflate: what it reads from XML and binary
// Info.plists, and where it stops — entry counts, unsafe names, a lying or honest zip bomb, data
// outside the archive — each with its reason, so the edge can answer 400 or 413.
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { toXmlPlist } from '../../../src/lib/plist/index.js';
import { DEFAULT_IPA_LIMITS, IpaError, readIpa, zipEntries } from '../../../src/lib/ipa/index.js';
import { buildIpa, infoPlistBinary, infoPlistXml } from '../../helpers/ipa.js';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof IpaError) return err.reason;
    throw err;
  }
  throw new Error('expected an IpaError');
}

describe('readIpa', () => {
  it('reads bundle id, name, versions and minimum OS from an XML Info.plist', () => {
    expect(readIpa(buildIpa({ bundleId: 'com.example.a', name: 'Alpha', shortVersion: '2.1', build: '210' }))).toEqual({
      bundleId: 'com.example.a',
      name: 'Alpha',
      version: '210',
      displayVersion: '2.1',
      minimumOsVersion: '15.0',
      bundlePath: 'Payload/Alpha.app',
    });
  });

  it('reads a binary Info.plist; CFBundleDisplayName wins over CFBundleName, the folder name is the last resort', () => {
    const bin = infoPlistBinary({ CFBundleIdentifier: 'com.example.b', CFBundleName: 'Beta', CFBundleDisplayName: 'Beta Pro' });
    expect(readIpa(buildIpa({ infoPlist: bin }))).toMatchObject({ name: 'Beta Pro', version: null, displayVersion: null });
    const bare = infoPlistXml({ CFBundleIdentifier: 'com.example.c' });
    expect(readIpa(buildIpa({ infoPlist: bare, appFolder: 'Gamma.app' })).name).toBe('Gamma');
  });

  it('reads stored (uncompressed) entries too', () => {
    const zip = zipSync({ 'Payload/S.app/Info.plist': [infoPlistXml({ CFBundleIdentifier: 'com.example.s' }), { level: 0 }] });
    expect(readIpa(zip).bundleId).toBe('com.example.s');
  });

  it('ignores Info.plists deeper in the bundle (frameworks, plug-ins)', () => {
    const ipa = buildIpa({
      bundleId: 'com.example.host',
      extra: { 'Payload/FieldNotes.app/PlugIns/Ext.appex/Info.plist': infoPlistXml({ CFBundleIdentifier: 'com.example.host.ext' }) },
    });
    expect(readIpa(ipa).bundleId).toBe('com.example.host');
  });

  it.each([
    ['not a zip', Buffer.from('PK but not really a zip archive at all'), 'not-zip'],
    ['empty', Buffer.alloc(0), 'not-zip'],
    ['no app bundle', Buffer.from(zipSync({ 'Payload/readme.txt': new Uint8Array(1) })), 'no-info-plist'],
    [
      'two app bundles',
      Buffer.from(
        zipSync({
          'Payload/A.app/Info.plist': infoPlistXml({ CFBundleIdentifier: 'com.example.a' }),
          'Payload/B.app/Info.plist': infoPlistXml({ CFBundleIdentifier: 'com.example.b' }),
        }),
      ),
      'no-info-plist',
    ],
    ['a plist that is an array', buildIpa({ infoPlist: Buffer.from(toXmlPlist(['com.example.a'])) }), 'bad-plist'],
    ['an entry with ..', buildIpa({ extra: { 'Payload/x/../../up': new Uint8Array(1) } }), 'unsafe-name'],
    ['an absolute entry', buildIpa({ extra: { '/abs': new Uint8Array(1) } }), 'unsafe-name'],
    ['a drive letter', buildIpa({ extra: { 'C:/windows': new Uint8Array(1) } }), 'unsafe-name'],
  ])('%s: refused (%s)', (_what, zip, why) => {
    expect(reason(() => readIpa(zip))).toBe(why);
  });

  it('counts entries from the central directory before reading any', () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) files[`Payload/X.app/f${i}`] = new Uint8Array(0);
    const zip = buildIpa({ extra: files });
    expect(zipEntries(zip)).toHaveLength(53);
    expect(reason(() => readIpa(zip, { ...DEFAULT_IPA_LIMITS, maxEntries: 52 }))).toBe('too-many-entries');
  });

  it('a bomb that declares its size is refused by the header; one that lies, by the inflater at the bound', () => {
    const zip = buildIpa({ infoPlist: new Uint8Array(8 * 1024 * 1024) });
    expect(reason(() => readIpa(zip))).toBe('plist-too-large');
    const lying = Buffer.from(zip);
    const name = Buffer.from('Payload/FieldNotes.app/Info.plist');
    for (let i = 0; i + 4 <= lying.length; i++) {
      if (lying.readUInt32LE(i) === 0x02014b50 && lying.subarray(i + 46, i + 46 + name.length).equals(name))
        lying.writeUInt32LE(10, i + 24);
    }
    let caught: unknown;
    try {
      readIpa(lying);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IpaError);
    expect((caught as IpaError).message).toMatch(/inflates to more than 1048576 bytes/);
  });

  it('an entry whose data lies outside the archive is refused, not read past the end', () => {
    const zip = Buffer.from(buildIpa());
    // Truncate the middle: the central directory still points at offsets that no longer hold headers.
    const cut = Buffer.concat([zip.subarray(0, 40), zip.subarray(zip.length - 400)]);
    expect(reason(() => readIpa(cut))).toBe('not-zip');
  });
});
