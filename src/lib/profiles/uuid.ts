import { createHash } from 'node:crypto';

// RFC 9562 name-based UUIDs (version 5, SHA-1). Payload UUIDs derive from stable ids in a
// per-installation namespace, so rebuilding a profile never churns its identity on devices.

const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

/** UUIDv5 of `name` in `namespace`, lowercase as RFC 9562 prints it. */
export function uuidV5(namespace: string, name: string): string {
  // Names differ per device (a first build never repeats one), but the namespace does not: its
  // check and bytes are kept for the last namespace seen.
  if (namespace !== lastNamespace) {
    if (!isUuid(namespace)) throw new TypeError(`namespace is not a UUID: ${namespace}`);
    lastNamespaceBytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    lastNamespace = namespace;
  }
  const hash = createHash('sha1').update(lastNamespaceBytes).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

let lastNamespace: string | undefined;
let lastNamespaceBytes = Buffer.alloc(16);
