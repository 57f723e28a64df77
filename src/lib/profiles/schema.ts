// The shape of Apple's device-management YAML schemas (docs/schema.md in apple/device-management),
// reduced to what lint reads, plus indexing by payload type. Pure: the loader does the I/O.

export interface OsSupport {
  introduced?: string;
  deprecated?: string;
  removed?: string;
  [other: string]: unknown;
}

export interface SupportedOS {
  iOS?: OsSupport;
  macOS?: OsSupport;
  [other: string]: OsSupport | undefined;
}

export interface SchemaKey {
  key: string;
  title?: string;
  type?: string;
  presence?: 'required' | 'optional';
  rangelist?: unknown[];
  range?: { min?: number; max?: number };
  format?: string;
  repetition?: { min?: number; max?: number };
  supportedOS?: SupportedOS;
  content?: string;
  subkeys?: SchemaKey[];
}

export interface PayloadSchema {
  title?: string;
  payload: { payloadtype: string; supportedOS?: SupportedOS; content?: string };
  payloadkeys: SchemaKey[];
}

export interface ProfileSchemaSet {
  /** Keys of the profile's outer dictionary (TopLevel.yaml). */
  topLevel: PayloadSchema;
  /** Keys every payload dictionary shares (CommonPayloadKeys.yaml). */
  common: PayloadSchema;
  /** Payload schemas by PayloadType. */
  payloads: ReadonlyMap<string, PayloadSchema>;
}

function isPayloadSchema(doc: unknown): doc is PayloadSchema {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as { payload?: { payloadtype?: unknown }; payloadkeys?: unknown };
  return typeof d.payload?.payloadtype === 'string' && Array.isArray(d.payloadkeys);
}

/** Indexes parsed schema documents; documents that are not profile payload schemas are ignored. */
export function indexProfileSchemas(docs: readonly unknown[]): ProfileSchemaSet {
  const payloads = new Map<string, PayloadSchema>();
  for (const doc of docs) if (isPayloadSchema(doc)) payloads.set(doc.payload.payloadtype, doc);
  const topLevel = payloads.get('TopLevel');
  const common = payloads.get('CommonPayloadKeys');
  if (!topLevel || !common) throw new Error('profile schemas lack TopLevel.yaml or CommonPayloadKeys.yaml');
  payloads.delete('TopLevel');
  payloads.delete('CommonPayloadKeys');
  return { topLevel, common, payloads };
}
