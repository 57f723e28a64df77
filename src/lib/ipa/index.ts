// Reads what the app catalog needs from an iOS installer (.ipa): the Info.plist of its one
// Payload/<Name>.app bundle. An .ipa is a zip archive; only its central directory is walked and
// only that one entry is inflated, so the cost is bounded by the limits below whatever the
// archive claims (a zip bomb stops at maxPlistBytes of output). Nothing is written anywhere, but
// an archive with unsafe entry names (absolute, "..", backslashes) is refused as malformed.
import { Inflate } from 'fflate';
import { parsePlist, PlistParseError, plistLimitsForBody, type PlistDict, isPlistDict } from '../plist/index.js';

export interface IpaLimits {
  /** Entries in the central directory. */
  maxEntries: number;
  /** Bytes the Info.plist may inflate to. */
  maxPlistBytes: number;
}

export const DEFAULT_IPA_LIMITS: Readonly<IpaLimits> = Object.freeze({ maxEntries: 4096, maxPlistBytes: 1024 * 1024 });

export interface IpaInfo {
  bundleId: string;
  /** CFBundleDisplayName, else CFBundleName, else the bundle folder's name. */
  name: string;
  /** CFBundleVersion (the build number). */
  version: string | null;
  /** CFBundleShortVersionString (what users see). */
  displayVersion: string | null;
  minimumOsVersion: string | null;
  /** The Payload/<Name>.app folder. */
  bundlePath: string;
}

/** Why an installer was refused, in words a person can act on; `field` is the part at fault. */
export class IpaError extends Error {
  constructor(
    message: string,
    readonly reason: 'not-zip' | 'too-many-entries' | 'unsafe-name' | 'no-info-plist' | 'plist-too-large' | 'bad-plist' | 'unsupported',
  ) {
    super(message);
    this.name = 'IpaError';
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface Entry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

function findEndOfCentralDirectory(zip: Uint8Array, view: DataView): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  for (let i = zip.length - 22; i >= lowest; i--) if (view.getUint32(i, true) === EOCD) return i;
  throw new IpaError('the installer is not a zip archive (an .ipa is one)', 'not-zip');
}

function entryName(raw: Uint8Array, flags: number): string {
  let name: string;
  try {
    name = flags & 0x800 ? utf8.decode(raw) : latin1.decode(raw);
  } catch {
    throw new IpaError('the archive has an entry name that is not valid UTF-8', 'unsafe-name');
  }
  if (
    name.length === 0 ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\u0000') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').some((part) => part === '..')
  ) {
    throw new IpaError(`the archive has an unsafe entry name: ${JSON.stringify(name.slice(0, 120))}`, 'unsafe-name');
  }
  return name;
}

/** The central directory's entries, every offset checked against the archive's size. */
export function zipEntries(zip: Uint8Array, limits: IpaLimits = DEFAULT_IPA_LIMITS): Entry[] {
  if (zip.length < 22) throw new IpaError('the installer is not a zip archive (an .ipa is one)', 'not-zip');
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = findEndOfCentralDirectory(zip, view);
  const count = view.getUint16(end + 10, true);
  const dirSize = view.getUint32(end + 12, true);
  const dirOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff) {
    throw new IpaError('ZIP64 archives are not supported (more than 65,535 entries or 4 GB)', 'unsupported');
  }
  if (count > limits.maxEntries) {
    throw new IpaError(`the archive has ${count} entries; at most ${limits.maxEntries} are accepted`, 'too-many-entries');
  }
  if (dirOffset + dirSize > end) throw new IpaError('the zip central directory lies outside the archive', 'not-zip');
  const entries: Entry[] = [];
  let p = dirOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || view.getUint32(p, true) !== CENTRAL) throw new IpaError('the zip central directory is truncated', 'not-zip');
    const flags = view.getUint16(p + 8, true);
    const nameLength = view.getUint16(p + 28, true);
    const next = p + 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
    if (next > end) throw new IpaError('the zip central directory is truncated', 'not-zip');
    entries.push({
      name: entryName(zip.subarray(p + 46, p + 46 + nameLength), flags),
      method: view.getUint16(p + 10, true),
      flags,
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    });
    p = next;
  }
  return entries;
}

/** An entry's bytes: stored, or deflated and inflated to at most `maxBytes` (whatever the header claims). */
function readEntry(zip: Uint8Array, entry: Entry, maxBytes: number): Uint8Array {
  if (entry.flags & 0x1) throw new IpaError(`${entry.name} is encrypted`, 'unsupported');
  if (entry.size > maxBytes) throw new IpaError(`${entry.name} is larger than ${maxBytes} bytes`, 'plist-too-large');
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at = entry.localOffset;
  if (at + 30 > zip.length || view.getUint32(at, true) !== LOCAL) throw new IpaError(`${entry.name}: bad local header`, 'not-zip');
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const stop = start + entry.compressedSize;
  if (stop > zip.length) throw new IpaError(`${entry.name}: data lies outside the archive`, 'not-zip');
  const data = zip.subarray(start, stop);
  if (entry.method === 0) {
    if (data.length > maxBytes) throw new IpaError(`${entry.name} is larger than ${maxBytes} bytes`, 'plist-too-large');
    return data;
  }
  if (entry.method !== 8) throw new IpaError(`${entry.name}: compression method ${entry.method} is not supported`, 'unsupported');
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflate = new Inflate((chunk) => {
    total += chunk.length;
    // Stop as soon as the output passes the bound: a bomb costs maxBytes, not what it expands to.
    if (total > maxBytes) throw new IpaError(`${entry.name} inflates to more than ${maxBytes} bytes`, 'plist-too-large');
    chunks.push(chunk);
  });
  try {
    for (let i = 0; i < data.length; i += 1024) inflate.push(data.subarray(i, i + 1024), i + 1024 >= data.length);
    if (data.length === 0) inflate.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof IpaError) throw err;
    throw new IpaError(`${entry.name}: corrupt deflate data`, 'not-zip');
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

const stringOf = (dict: PlistDict, key: string): string | null => {
  const v = dict[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
};

/** Reads an .ipa's Info.plist (XML or binary) within `limits`; throws IpaError on anything else. */
export function readIpa(zip: Uint8Array, limits: IpaLimits = DEFAULT_IPA_LIMITS): IpaInfo {
  const entries = zipEntries(zip, limits);
  const plists = entries.filter((e) => /^Payload\/[^/]+\.app\/Info\.plist$/.test(e.name));
  if (plists.length === 0) throw new IpaError('the archive has no Payload/<Name>.app/Info.plist: it is not an iOS app', 'no-info-plist');
  if (plists.length > 1) throw new IpaError('the archive has more than one Payload/<Name>.app bundle', 'no-info-plist');
  const entry = plists[0]!;
  const bytes = readEntry(zip, entry, limits.maxPlistBytes);
  let plist;
  try {
    plist = parsePlist(bytes, plistLimitsForBody(limits.maxPlistBytes));
  } catch (err) {
    if (err instanceof PlistParseError) throw new IpaError(`${entry.name}: ${err.message}`, 'bad-plist');
    throw err;
  }
  if (!isPlistDict(plist)) throw new IpaError(`${entry.name} is not a dictionary`, 'bad-plist');
  const bundleId = stringOf(plist, 'CFBundleIdentifier');
  if (!bundleId) throw new IpaError(`${entry.name} has no CFBundleIdentifier`, 'bad-plist');
  const bundlePath = entry.name.slice(0, -'/Info.plist'.length);
  return {
    bundleId,
    name: stringOf(plist, 'CFBundleDisplayName') ?? stringOf(plist, 'CFBundleName') ?? bundlePath.slice('Payload/'.length, -'.app'.length),
    version: stringOf(plist, 'CFBundleVersion'),
    displayVersion: stringOf(plist, 'CFBundleShortVersionString'),
    minimumOsVersion: stringOf(plist, 'MinimumOSVersion'),
    bundlePath,
  };
}
