// The one configuration object, read once at start from flags and environment.
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  dbFile: string;
  adminUser: string;
  /** Only used to seed the first admin; never logged. */
  adminPassword: string | undefined;
  publicUrl: string;
  /** No public URL was given: it is derived from the port (the bound one, with port 0). */
  publicUrlFromPort: boolean;
  logLevel: string;
  /** Serve HTTPS with a certificate from our CA for the public host name. */
  tls: boolean;
  /** Key type of a newly created signing identity. */
  keyType: 'rsa' | 'ec';
  /** Header a TLS-terminating proxy puts the client certificate in (PEM, URL-encoded), if any. */
  clientCertHeader: string | undefined;
  /** Max accepted request body, bytes. */
  bodyLimit: number;
  /** How long a verified Basic credential stays cached in memory, ms. */
  credentialCacheMs: number;
  /** SCEP accepts single DES-CBC (56-bit) from clients that use nothing else; off by default. */
  scepAllowDes: boolean;
  /** MachineInfo enrollment (POST /mdm/enroll) also enrolls devices whose serial number and UDID no record holds; off by default. */
  enrollUnknownDevices: boolean;
  /** Profiles delivered by InstallProfile go out as plain XML rather than CMS-signed; off (signed) by default. */
  installProfileUnsigned: boolean;
  /** Where pushes go once a push certificate is uploaded: Apple's production or development host, or another (a stand-in). */
  apnsUrl: string;
  /** PEM trust anchors for that host (a stand-in's CA); Apple's hosts are trusted by the system store. */
  apnsCaFile: string | undefined;
  /** Bounds of the CSV bulk import that differ from its defaults (src/devices/bulk.ts): MOCKIRON_BULK_MAX_BYTES, _MAX_ROWS, _INLINE_ROWS. */
  bulkImport: { maxBytes?: number; maxRows?: number; inlineRows?: number };
}

export interface ConfigOverrides {
  port?: number | string;
  host?: string;
  dataDir?: string;
  logLevel?: string;
  publicUrl?: string;
  keyType?: string;
  tls?: boolean;
  scepAllowDes?: boolean;
  enrollUnknownDevices?: boolean;
  installProfileUnsigned?: boolean;
  apnsEnvironment?: string;
  apnsUrl?: string;
}

/** Apple's APNs provider API hosts ("Sending notification requests to APNs"). */
export const apnsHosts = { production: 'https://api.push.apple.com', development: 'https://api.sandbox.push.apple.com' } as const;

function apnsUrlFrom(environment: string, url: string | undefined): string {
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`invalid APNs URL: ${url}`);
    }
    if (parsed.protocol !== 'https:') throw new Error(`invalid APNs URL: ${url} (APNs is HTTPS)`);
    return parsed.origin;
  }
  if (environment !== 'production' && environment !== 'development')
    throw new Error(`invalid APNs environment: ${environment} (production or development)`);
  return apnsHosts[environment];
}

/** A positive integer setting, or undefined when not set. */
function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`invalid ${name}: ${value} (a positive integer)`);
  return n;
}

const isOn = (value: string | undefined) => ['1', 'true', 'yes'].includes((value ?? '').toLowerCase());

function parsePort(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${value}`);
  return n;
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(overrides.port ?? env.MOCKIRON_PORT, 8080);
  const host = overrides.host ?? env.MOCKIRON_HOST ?? '0.0.0.0';
  const dataDir = path.resolve(overrides.dataDir ?? env.MOCKIRON_DATA_DIR ?? './data');
  const tls = overrides.tls ?? isOn(env.MOCKIRON_TLS);
  const publicUrl = (overrides.publicUrl ?? env.MOCKIRON_PUBLIC_URL ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new Error(`invalid public URL: ${publicUrl}`);
  }
  const keyType = (overrides.keyType ?? env.MOCKIRON_KEY_TYPE ?? 'rsa').toLowerCase();
  if (keyType !== 'rsa' && keyType !== 'ec') throw new Error(`invalid key type: ${keyType} (rsa or ec)`);
  return {
    keyType,
    tls,
    clientCertHeader: env.MOCKIRON_CLIENT_CERT_HEADER || undefined,
    port,
    host,
    dataDir,
    dbFile: path.join(dataDir, 'mockiron.db'),
    adminUser: env.MOCKIRON_ADMIN_USER || 'admin',
    adminPassword: env.MOCKIRON_ADMIN_PASSWORD || undefined,
    publicUrl,
    publicUrlFromPort: (overrides.publicUrl ?? env.MOCKIRON_PUBLIC_URL) === undefined,
    logLevel: overrides.logLevel ?? env.MOCKIRON_LOG_LEVEL ?? 'info',
    bodyLimit: 1024 * 1024,
    credentialCacheMs: 60_000,
    scepAllowDes: overrides.scepAllowDes ?? isOn(env.MOCKIRON_SCEP_ALLOW_DES),
    enrollUnknownDevices: overrides.enrollUnknownDevices ?? isOn(env.MOCKIRON_ENROLL_UNKNOWN_DEVICES),
    installProfileUnsigned: overrides.installProfileUnsigned ?? isOn(env.MOCKIRON_INSTALL_PROFILE_UNSIGNED),
    apnsUrl: apnsUrlFrom(
      (overrides.apnsEnvironment ?? env.MOCKIRON_APNS_ENVIRONMENT ?? 'production').toLowerCase(),
      overrides.apnsUrl ?? (env.MOCKIRON_APNS_URL || undefined),
    ),
    apnsCaFile: env.MOCKIRON_APNS_CA_FILE || undefined,
    bulkImport: {
      maxBytes: positiveInt('MOCKIRON_BULK_MAX_BYTES', env.MOCKIRON_BULK_MAX_BYTES),
      maxRows: positiveInt('MOCKIRON_BULK_MAX_ROWS', env.MOCKIRON_BULK_MAX_ROWS),
      inlineRows: positiveInt('MOCKIRON_BULK_INLINE_ROWS', env.MOCKIRON_BULK_INLINE_ROWS),
    },
  };
}
