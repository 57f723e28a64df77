/**
 * The PerApp policy blob, as carried by `anyconnect-custom-data perapp NAME VALUE`.
 *
 * What is Cisco fact: the value is the policy "compressed, then Base64-encoded" (seed guide), and the
 * FMC API calls it `perAppVpnBase64EncodedValue`. What is NOT public: the format before compression
 * and the compression algorithm. The XML below is mockiron's own format (design note 5.1), not
 * Cisco's; real Application Selector blobs will not decode with it. We compress with zlib at the
 * default level (Base64 then starts `eJ`, like Cisco samples are remembered to) and decode zlib,
 * gzip or raw deflate.
 *
 * Mock format, UTF-8, no whitespace between elements:
 *   <?xml version="1.0" encoding="UTF-8"?><PerAppPolicy version="1"><Platform name="iOS">
 *   <App id="com.google.chrome.ios" friendlyName="Chrome"/></Platform></PerAppPolicy>
 * Platforms in the order iOS, Android, only when they have rules; apps in input order;
 * attributes in the order id, friendlyName, minVersion, certificateId.
 */
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { formatPath } from './issues.js';
import { checkPerAppPolicy, normalizePerAppPolicy, parsePlatform } from './policy.js';
import { type Compression, PLATFORMS, type PerAppPolicy, type PerAppRule } from './types.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
// A policy is a few KB at most; refuse to inflate a "zip bomb" pasted by mistake.
const MAX_DECODED_BYTES = 1024 * 1024;

export type DecodeStage = 'base64' | 'compression' | 'format' | 'policy';

export class PerAppDecodeError extends Error {
  constructor(
    readonly stage: DecodeStage,
    message: string,
  ) {
    super(message);
    this.name = 'PerAppDecodeError';
  }
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The mock pre-compression document for a (normalized) policy. Deterministic. */
export function serializePerAppPolicyXml(policy: PerAppPolicy): string {
  let xml = `${XML_DECLARATION}<PerAppPolicy version="1">`;
  for (const platform of PLATFORMS) {
    const rules = policy.rules.filter((r) => r.platform === platform);
    if (rules.length === 0) continue;
    xml += `<Platform name="${platform}">`;
    for (const r of rules) {
      xml += `<App id="${escapeXml(r.appId)}"`;
      if (r.friendlyName !== undefined) xml += ` friendlyName="${escapeXml(r.friendlyName)}"`;
      if (r.minVersion !== undefined) xml += ` minVersion="${escapeXml(r.minVersion)}"`;
      if (r.certificateId !== undefined) xml += ` certificateId="${escapeXml(r.certificateId)}"`;
      xml += '/>';
    }
    xml += '</Platform>';
  }
  return `${xml}</PerAppPolicy>`;
}

export interface EncodeOptions {
  /** Default 'zlib' (what the design note recommends); the others exist to exercise decoders. */
  compression?: Compression;
}

/** Validates the policy (throws PerAppValidationError) and returns the Base64 blob, without line breaks. */
export function encodePerAppPolicy(policy: PerAppPolicy | unknown, options: EncodeOptions = {}): string {
  const normalized = normalizePerAppPolicy(policy);
  const bytes = Buffer.from(serializePerAppPolicyXml(normalized), 'utf8');
  const compression = options.compression ?? 'zlib';
  const compressed = compression === 'gzip' ? gzipSync(bytes) : compression === 'raw' ? deflateRawSync(bytes) : deflateSync(bytes);
  return compressed.toString('base64');
}

export interface DecodedPerAppPolicy {
  policy: PerAppPolicy;
  compression: Compression;
  /** The decompressed mock document, for debugging. */
  xml: string;
}

export interface DecodeOptions {
  /** Reject unknown elements and attributes (default true). */
  strict?: boolean;
}

function base64Bytes(blob: string): Buffer {
  const text = blob.replace(/\s+/g, '');
  if (text === '') throw new PerAppDecodeError('base64', 'the PerApp blob is empty');
  if (/^anyconnect-custom-data/i.test(text)) {
    throw new PerAppDecodeError('base64', 'pass only the Base64 value, not the whole anyconnect-custom-data line');
  }
  const bad = /[^A-Za-z0-9+/=]/.exec(text);
  if (bad) {
    const hint = /[-_]/.test(bad[0]) ? " (this looks like base64url; the head-end uses standard Base64 with '+' and '/')" : '';
    throw new PerAppDecodeError('base64', `the PerApp blob is not Base64: character '${bad[0]}' at position ${bad.index + 1}${hint}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new PerAppDecodeError(
      'base64',
      `the PerApp blob is not valid Base64 (length ${text.length} is not a multiple of 4, or '=' padding is misplaced); was it truncated?`,
    );
  }
  return Buffer.from(text, 'base64');
}

function inflate(bytes: Buffer): { data: Buffer; compression: Compression } {
  const opts = { maxOutputLength: MAX_DECODED_BYTES };
  const attempts: Array<[Compression, () => Buffer]> = [];
  const looksZlib = bytes.length >= 2 && (bytes[0]! & 0x0f) === 8 && (bytes[0]! * 256 + bytes[1]!) % 31 === 0;
  const looksGzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (looksGzip) attempts.push(['gzip', () => gunzipSync(bytes, opts)]);
  if (looksZlib) attempts.push(['zlib', () => inflateSync(bytes, opts)]);
  // A raw deflate stream has no header, so it is the fallback for anything else.
  attempts.push(['raw', () => inflateRawSync(bytes, opts)]);
  let lastError = '';
  for (const [compression, run] of attempts) {
    try {
      return { data: run(), compression };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        throw new PerAppDecodeError('compression', `the decompressed PerApp policy exceeds ${MAX_DECODED_BYTES} bytes; refusing it`);
      }
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  throw new PerAppDecodeError(
    'compression',
    `the PerApp blob is Base64 but not zlib, gzip or raw-deflate data (${lastError}); is it corrupt or truncated?`,
  );
}

/** Decodes a blob: tolerant of whitespace and pasted line breaks, zlib / gzip / raw deflate. */
export function decodePerAppPolicy(blob: string, options: DecodeOptions = {}): DecodedPerAppPolicy {
  const { data, compression } = inflate(base64Bytes(blob));
  const xml = data.toString('utf8');
  const rules = parsePerAppPolicyXml(xml, options.strict ?? true);
  const checked = checkPerAppPolicy({ version: 1, rules });
  if (!checked.ok) {
    throw new PerAppDecodeError(
      'policy',
      `the decoded PerApp policy is invalid: ${checked.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
    );
  }
  return { policy: checked.policy, compression, xml };
}

// ---- a minimal XML reader for exactly the mock schema ------------------------------------------

interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
}

function formatError(message: string): PerAppDecodeError {
  return new PerAppDecodeError('format', `the decompressed data is not a mockiron PerApp policy document: ${message}`);
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[ent]!;
  });
}

function parseXml(xml: string): XmlElement {
  let pos = 0;
  const skipMisc = (): void => {
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(pos))![0].length;
      pos += ws;
      if (xml.startsWith('<?', pos)) {
        const end = xml.indexOf('?>', pos);
        if (end === -1) throw formatError('unterminated <?...?>');
        pos = end + 2;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        if (end === -1) throw formatError('unterminated comment');
        pos = end + 3;
      } else {
        return;
      }
    }
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.-]*)/.exec(xml.slice(pos));
    if (!open) throw formatError(`expected an element at offset ${pos}`);
    pos += open[0].length;
    const el: XmlElement = { name: open[1]!, attributes: new Map(), children: [] };
    for (;;) {
      const attr = /^\s+([A-Za-z_][\w.-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(xml.slice(pos));
      if (!attr) break;
      el.attributes.set(attr[1]!, unescapeXml(attr[3] ?? attr[4] ?? ''));
      pos += attr[0].length;
    }
    const close = /^\s*(\/?)>/.exec(xml.slice(pos));
    if (!close) throw formatError(`malformed tag <${el.name}> at offset ${pos}`);
    pos += close[0].length;
    if (close[1] === '/') return el;
    for (;;) {
      skipMisc();
      if (xml.startsWith(`</${el.name}`, pos)) {
        const end = /^<\/[\w.-]+\s*>/.exec(xml.slice(pos));
        if (!end) throw formatError(`malformed closing tag </${el.name}>`);
        pos += end[0].length;
        return el;
      }
      if (pos >= xml.length) throw formatError(`<${el.name}> is not closed`);
      if (xml[pos] !== '<') throw formatError(`unexpected text inside <${el.name}> at offset ${pos}`);
      el.children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (pos !== xml.length) throw formatError(`unexpected content after </${root.name}>`);
  return root;
}

/** Reads the mock document into raw rules (validated afterwards by the caller). */
export function parsePerAppPolicyXml(xml: string, strict = true): PerAppRule[] {
  const root = parseXml(xml);
  if (root.name !== 'PerAppPolicy') throw formatError(`the root element is <${root.name}>, expected <PerAppPolicy>`);
  const version = root.attributes.get('version');
  if (version !== '1') throw formatError(`unsupported PerAppPolicy version ${JSON.stringify(version ?? null)} (expected "1")`);
  const unknown = (what: string): void => {
    if (strict) throw formatError(`unknown ${what}`);
  };
  const rules: PerAppRule[] = [];
  for (const platformEl of root.children) {
    if (platformEl.name !== 'Platform') {
      unknown(`element <${platformEl.name}> in <PerAppPolicy>`);
      continue;
    }
    const platformName = platformEl.attributes.get('name') ?? '';
    const platform = parsePlatform(platformName);
    if (!platform) throw formatError(`<Platform name="${platformName}"> is not iOS or Android`);
    for (const app of platformEl.children) {
      if (app.name !== 'App') {
        unknown(`element <${app.name}> in <Platform>`);
        continue;
      }
      const id = app.attributes.get('id');
      if (id === undefined) throw formatError(`an <App> under ${platform} has no id attribute`);
      const rule: PerAppRule = { platform, appId: id };
      for (const [key, value] of app.attributes) {
        if (key === 'friendlyName') rule.friendlyName = value;
        else if (key === 'minVersion') rule.minVersion = value;
        else if (key === 'certificateId') rule.certificateId = value;
        else if (key !== 'id') unknown(`attribute ${key} on <App id="${id}">`);
      }
      rules.push(rule);
    }
  }
  return rules;
}
