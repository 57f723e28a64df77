// The AnyConnect head-end (ASA side) as stored resources: PerApp policies, group policies, tunnel
// groups, DAP records and settings, plus the read-only tools over them (blob, ASA CLI, session
// resolution, tunnel simulation). The decisions themselves are the pure model in src/lib/anyconnect;
// this layer adds storage, authorization, referential rules, transactions and the audit trail. The
// four named objects share one CRUD helper (src/platform/db/crud.ts, definitions in resources.ts).
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { CrudResource } from '../platform/db/crud.js';
import { DomainError } from '../platform/errors/index.js';
import type { PolicyService, ResolvedPolicy } from '../policy/index.js';
import { DEFAULT_PERAPP_DESCRIPTION } from '../lib/anyconnect/headend.js';
import {
  AsaCliParseError,
  ClientCertificateError,
  MAX_TRUSTPOINTS,
  type MockironPki,
  type SessionContext,
  type Trustpoint,
  trustpointCaProblem,
  type AppUnderTest,
  type Compression,
  type ConfigIssue,
  type DapOrder,
  type HeadEndConfig,
  type MdmBinding,
  PerAppDecodeError,
  type PerAppRule,
  type PerAppSetting,
  type Platform,
  type Session,
  type SessionResolution,
  type TunnelDecision,
  chunkCustomDataLines,
  decideTunnel,
  decodePerAppPolicy,
  encodePerAppPolicy,
  endpointFromDevice,
  normalizeEndpointAttributes,
  parseAsaCliWithReport,
  parsePlatform,
  renderAsaCli,
  resolveSession,
  validateHeadEndConfig,
} from '../lib/anyconnect/index.js';
import {
  dapColumns,
  dapRecords,
  groupPolicies,
  parseJsonColumn,
  perappPolicies,
  readSetting,
  toDapRecord,
  toTunnelGroup,
  tunnelGroups,
  validationError,
  writeSetting,
} from './resources.js';
import type { DeviceIdentityCertificate, DeviceIdentityCertificates, MockironCertificateAuthority } from './ports.js';
import { anyconnectStore as store } from './store.js';

/** VPN configuration types whose per-app traffic reaches AnyConnect (and so the ASA's PerApp policy). */
const ANYCONNECT_TYPES: ReadonlySet<string> = new Set(['ANYCONNECT', 'ANYCONNECT_LEGACY']);

// ---- inputs ---------------------------------------------------------------------------------

export interface SettingsInput {
  dapOrder?: DapOrder;
  perappAttrDescription?: string;
  trustpoints?: Trustpoint[];
}
export interface SessionInput {
  /** PEM of the client certificate the session presents; with deviceUuid and without it, the device's newest identity certificate. */
  clientCertificate?: string;
  /** false: the AAA (password) step fails. */
  aaaAuthenticated?: boolean;
  tunnelGroup?: string;
  aaa?: Record<string, string | string[]>;
  endpoint?: Record<string, string>;
  userPerapp?: PerAppSetting;
  /** Derive the endpoint attributes from this device's MobileIron record. */
  deviceUuid?: string;
}
export interface SimulateInput extends SessionInput {
  platform?: Platform;
  mdmBinding?: MdmBinding;
  app: AppUnderTest;
}

// ---- the service ----------------------------------------------------------------------------

export class AnyconnectService {
  /** The four named objects, each with list, get, create, update and remove (their own rules are in resources.ts). */
  readonly perappPolicies;
  readonly groupPolicies;
  readonly tunnelGroups;
  readonly dapRecords;

  constructor(
    readonly db: Db,
    readonly policy: PolicyService,
    /** Without it, trustpoints standing for mockiron's CA have no CA certificate and no CRL. */
    readonly ca?: MockironCertificateAuthority,
    /** Without it, a device has no identity certificates to present. */
    readonly identities?: DeviceIdentityCertificates,
  ) {
    this.perappPolicies = new CrudResource(db, recordAudit, perappPolicies);
    this.groupPolicies = new CrudResource(db, recordAudit, groupPolicies);
    this.tunnelGroups = new CrudResource(db, recordAudit, tunnelGroups);
    this.dapRecords = new CrudResource(db, recordAudit, dapRecords);
  }

  /** The whole head-end as the pure model's HeadEndConfig. Consistency is not assumed: the resolver fails closed on dangling names. */
  async loadConfig(tx: DbTx): Promise<HeadEndConfig> {
    const settings = await this.readSettings(tx);
    const [policies, gps, tgs, daps] = [
      await store.perappPolicies.all(tx),
      await store.groupPolicies.all(tx),
      await store.tunnelGroups.all(tx),
      await store.dapRecords.all(tx),
    ];
    return {
      ...settings,
      perappPolicies: policies.map((p) => ({ name: p.name, rules: parseJsonColumn<PerAppRule[]>(p.rules, []) })),
      groupPolicies: gps.map((g) => ({ name: g.name, perapp: readSetting(g.perapp) })),
      tunnelGroups: tgs.map(toTunnelGroup),
      dapRecords: daps.map(toDapRecord),
    };
  }

  private async readSettings(tx: DbTx): Promise<{ dapOrder: DapOrder; perappAttrDescription: string; trustpoints: Trustpoint[] }> {
    const row = await store.settings.get(tx);
    return {
      dapOrder: row?.dapOrder === 'ftd' ? 'ftd' : 'asa',
      perappAttrDescription: row?.perappAttrDescription ?? DEFAULT_PERAPP_DESCRIPTION,
      trustpoints: parseJsonColumn<Trustpoint[]>(row?.trustpoints ?? '[]', []),
    };
  }

  /** mockiron's CA and its CRL now; a CRL that cannot be had is a reason, not an error (revocation-check decides). */
  private async sessionContext(): Promise<SessionContext> {
    if (!this.ca)
      return { pki: { caCertificatePem: null, crl: null, crlUnavailable: 'no certificate authority is wired to the head-end' } };
    const caCertificatePem = this.ca.caCertificatePem();
    let pki: MockironPki;
    try {
      pki = { caCertificatePem, crl: await this.ca.crl() };
    } catch (err) {
      pki = { caCertificatePem, crl: null, crlUnavailable: err instanceof Error ? err.message : String(err) };
    }
    return { pki, now: new Date() };
  }

  /** The client certificate of a session: the one sent, else the device's newest identity certificate. */
  private async presentedCertificate(input: SessionInput, notes: string[]): Promise<string | undefined> {
    if (input.clientCertificate !== undefined) return input.clientCertificate;
    if (input.deviceUuid === undefined) return undefined;
    const certificates: DeviceIdentityCertificate[] = this.identities ? await this.identities.identityCertificates(input.deviceUuid) : [];
    const newest = certificates[0];
    if (!newest) {
      notes.push('MobileIron: the device has no identity certificate, so it presents none');
      return undefined;
    }
    notes.push(
      `MobileIron: the device presents its newest identity certificate, serial ${newest.serialNumber} (${newest.settingName}${newest.revoked ? ', revoked' : ''})`,
    );
    return newest.certificatePem;
  }

  // -- PerApp policy tools --

  /** The Base64 value the head-end stores, and the `anyconnect-custom-data` lines that carry it. */
  async perappPolicyBlob(actor: Actor, id: number, compression: Compression) {
    requireRead(actor);
    const row = await this.perappPolicies.find(this.db, id);
    const blob = encodePerAppPolicy({ version: 1, rules: parseJsonColumn<PerAppRule[]>(row.rules, []) }, { compression });
    return { name: row.name, blob, compression, length: blob.length, asaLines: chunkCustomDataLines(row.name, blob) };
  }

  decodePerappBlob(actor: Actor, blob: string, strict: boolean) {
    requireRead(actor);
    try {
      const decoded = decodePerAppPolicy(blob, { strict });
      return { rules: decoded.policy.rules, compression: decoded.compression, xml: decoded.xml };
    } catch (err) {
      if (err instanceof PerAppDecodeError) throw decodeError(err);
      throw err;
    }
  }

  // -- settings --

  async getSettings(actor: Actor) {
    requireRead(actor);
    return this.readSettings(this.db);
  }

  async updateSettings(actor: Actor, input: SettingsInput) {
    requireWrite(actor);
    const trustpoints = input.trustpoints === undefined ? undefined : checkTrustpoints(input.trustpoints);
    await this.db.$transaction(async (tx) => {
      await store.settings.put(tx, {
        ...(input.dapOrder !== undefined ? { dapOrder: input.dapOrder } : {}),
        ...(input.perappAttrDescription !== undefined ? { perappAttrDescription: input.perappAttrDescription } : {}),
        ...(trustpoints !== undefined ? { trustpoints: JSON.stringify(trustpoints) } : {}),
      });
      const details = { ...input, ...(trustpoints ? { trustpoints: trustpoints.map((t) => t.name) } : {}) };
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'headEndSettings', objectId: 1, details });
    });
    return this.readSettings(this.db);
  }

  // -- the whole head-end --

  async headEnd(actor: Actor): Promise<{ config: HeadEndConfig; issues: ConfigIssue[] }> {
    requireRead(actor);
    const config = await this.loadConfig(this.db);
    return { config, issues: validateHeadEndConfig(config) };
  }

  async asaConfig(actor: Actor): Promise<string> {
    requireRead(actor);
    return renderAsaCli(await this.loadConfig(this.db));
  }

  /** Parses ASA CLI without storing anything. Errors name the line (0: the config as a whole). */
  parseAsaConfig(actor: Actor, text: string) {
    requireRead(actor);
    const report = parseAsa(text);
    return { config: report.config, issues: validateHeadEndConfig(report.config), ignoredLines: report.ignoredLines };
  }

  /** Replaces the whole head-end with the parsed CLI in one transaction. Refused when the config has errors (dangling names, duplicates). */
  async importAsaConfig(actor: Actor, text: string) {
    requireWrite(actor);
    const { config } = parseAsa(text);
    // Text with no per-app objects in it is far more likely a wrong paste than a wish to wipe the head-end.
    if (Object.values(counts(config)).every((n) => n === 0)) {
      throw new DomainError(
        'anyconnect.asaImport',
        'the text holds no PerApp policy, group policy, tunnel group or DAP record; nothing was imported (delete objects one by one to empty the head-end)',
        { field: 'text' },
      );
    }
    const issues = validateHeadEndConfig(config);
    const errors = issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      const err = validationError(errors.map((i) => ({ field: i.path, message: i.message })));
      throw new DomainError(
        'anyconnect.asaImport',
        `the parsed configuration is inconsistent, nothing was imported: ${err.message}`,
        err.details,
        err.more,
      );
    }
    await this.db.$transaction(async (tx) => {
      await store.dapRecords.removeAll(tx);
      await store.tunnelGroups.removeAll(tx);
      await store.groupPolicies.removeAll(tx);
      await store.perappPolicies.removeAll(tx);
      await store.settings.put(tx, {
        dapOrder: config.dapOrder,
        perappAttrDescription: config.perappAttrDescription,
        trustpoints: JSON.stringify(config.trustpoints),
      });
      for (const p of config.perappPolicies) await store.perappPolicies.create(tx, { name: p.name, rules: JSON.stringify(p.rules) });
      for (const g of config.groupPolicies) await store.groupPolicies.create(tx, { name: g.name, perapp: writeSetting(g.perapp) });
      for (const t of config.tunnelGroups) {
        await store.tunnelGroups.create(tx, {
          name: t.name,
          defaultGroupPolicy: t.defaultGroupPolicy,
          authentication: t.authentication,
          usernameFromCertificate: t.usernameFromCertificate === null ? null : JSON.stringify(t.usernameFromCertificate),
        });
      }
      for (const r of config.dapRecords) await store.dapRecords.create(tx, dapColumns(r));
      await recordAudit(tx, {
        actor: actor.username,
        action: 'import',
        objectType: 'headEndConfig',
        objectId: null,
        details: { counts: counts(config) },
      });
    });
    return { imported: counts(config), warnings: issues };
  }

  // -- sessions --

  async resolve(actor: Actor, input: SessionInput): Promise<SessionResolution & { session: Session }> {
    requireRead(actor);
    let endpoint = normalizeEndpointAttributes(input.endpoint ?? {});
    if (input.deviceUuid !== undefined) {
      const resolved = await this.policy.forDevice(actor, input.deviceUuid);
      endpoint = { ...deviceEndpoint(resolved), ...endpoint };
    }
    if (input.tunnelGroup === undefined) throw DomainError.validation('tunnelGroup', 'is required');
    const notes: string[] = [];
    const session: Session = {
      tunnelGroup: input.tunnelGroup,
      aaa: input.aaa ?? {},
      endpoint,
      ...(input.userPerapp !== undefined ? { userPerapp: input.userPerapp } : {}),
      ...(await this.certificateFields(input, notes)),
    };
    const resolution = withClientCertificateErrors(async () =>
      resolveSession(await this.loadConfig(this.db), session, await this.sessionContext()),
    );
    const result = await resolution;
    result.reasons.unshift(...notes);
    return { ...result, session: publicSession(session) };
  }

  private async certificateFields(
    input: SessionInput,
    notes: string[],
  ): Promise<Pick<Session, 'clientCertificatePem' | 'aaaAuthenticated'>> {
    const pem = await this.presentedCertificate(input, notes);
    return {
      ...(pem !== undefined ? { clientCertificatePem: pem } : {}),
      ...(input.aaaAuthenticated !== undefined ? { aaaAuthenticated: input.aaaAuthenticated } : {}),
    };
  }

  /**
   * Does an app's traffic tunnel? With deviceUuid, the endpoint comes from the device record and
   * the iOS binding from MobileIron's policy for the device (the app must be delivered to it and
   * bound to an AnyConnect per-app VPN); the tunnel group defaults to the bound VPN's `group`.
   */
  async simulate(
    actor: Actor,
    input: SimulateInput,
  ): Promise<
    TunnelDecision & {
      session: Session;
      mdmSource: 'device' | 'request' | 'none';
      refusal: SessionResolution['refusal'];
      authentication: SessionResolution['authentication'];
    }
  > {
    requireRead(actor);
    const notes: string[] = [];
    let platform: Platform;
    let endpoint = normalizeEndpointAttributes(input.endpoint ?? {});
    let mdmBinding = input.mdmBinding;
    let tunnelGroup = input.tunnelGroup;
    let mdmSource: 'device' | 'request' | 'none' = mdmBinding ? 'request' : 'none';
    if (input.deviceUuid !== undefined) {
      if (input.platform !== undefined)
        throw DomainError.validation('platform', 'comes from the device record; omit it when deviceUuid is given');
      if (input.mdmBinding !== undefined)
        throw DomainError.validation('mdmBinding', "comes from MobileIron's policy for the device; omit it when deviceUuid is given");
      const resolved = await this.policy.forDevice(actor, input.deviceUuid);
      const devicePlatform = parsePlatform(resolved.device.platform);
      if (!devicePlatform)
        throw DomainError.validation('deviceUuid', `device platform '${resolved.device.platform}' is not iOS or Android`);
      platform = devicePlatform;
      endpoint = { ...deviceEndpoint(resolved), ...endpoint };
      const fromPolicy = bindingFromPolicy(resolved, input.app.appId);
      // Android ignores MDM bindings (the ASA policy alone decides), so their story would only distract.
      if (platform === 'iOS') {
        notes.push(...fromPolicy.notes);
        mdmBinding = fromPolicy.binding;
        mdmSource = 'device';
      }
      if (tunnelGroup === undefined && fromPolicy.group) {
        tunnelGroup = fromPolicy.group;
        notes.push(`tunnel group '${tunnelGroup}' taken from the group of VPN configuration '${fromPolicy.binding.vpnConfigName}'`);
      } else if (tunnelGroup === undefined) {
        // An unbound app still runs on a device whose AnyConnect connects with its VPN
        // configuration's group: the question "would this app tunnel?" has the same session.
        const fromDevice = deviceTunnelGroup(resolved);
        if (fromDevice.group !== undefined) {
          tunnelGroup = fromDevice.group;
          notes.push(`tunnel group '${tunnelGroup}' taken from the device's AnyConnect VPN configuration${fromDevice.names}`);
        } else if (fromDevice.names) {
          throw DomainError.validation(
            'tunnelGroup',
            `is required: the device's AnyConnect VPN configurations name different groups${fromDevice.names}`,
          );
        }
      }
    } else {
      if (input.platform === undefined)
        throw DomainError.validation('platform', "is required ('iOS' or 'Android') unless deviceUuid is given");
      platform = input.platform;
    }
    if (tunnelGroup === undefined)
      throw DomainError.validation(
        'tunnelGroup',
        'is required (or use deviceUuid for a device with an AnyConnect VPN configuration that names its group)',
      );
    const session: Session = {
      tunnelGroup,
      aaa: input.aaa ?? {},
      endpoint,
      ...(input.userPerapp !== undefined ? { userPerapp: input.userPerapp } : {}),
      ...(await this.certificateFields(input, notes)),
    };
    const config = await this.loadConfig(this.db);
    const context = await this.sessionContext();
    const decision = await withClientCertificateErrors(async () =>
      decideTunnel({ config, session, app: input.app, platform, context, ...(mdmBinding ? { mdmBinding } : {}) }),
    );
    // The MobileIron facts go just before the verdict, which stays last.
    decision.reasons.splice(decision.reasons.length - 1, 0, ...notes);
    const { refusal, authentication } = decision.resolution;
    return { ...decision, refusal, authentication, session: publicSession(session), mdmSource };
  }
}

// ---- helpers used by the service ------------------------------------------------------------

/** A PEM that is no certificate is bad input (400), never a refusal or a 500. */
async function withClientCertificateErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ClientCertificateError)
      throw new DomainError('anyconnect.clientCertificate', `clientCertificate ${err.message}`, { field: 'clientCertificate' });
    throw err;
  }
}

/** The session as answered: the certificate's PEM is long and already summarized under authentication. */
function publicSession(session: Session): Session {
  const { clientCertificatePem, ...rest } = session;
  return clientCertificatePem === undefined
    ? rest
    : { ...rest, clientCertificatePem: '(presented; see authentication.presentedCertificate)' };
}

/** Trustpoints as stored: unique names, CA certificates that are CA certificates. */
function checkTrustpoints(trustpoints: Trustpoint[]): Trustpoint[] {
  if (trustpoints.length > MAX_TRUSTPOINTS) throw DomainError.validation('trustpoints', `at most ${MAX_TRUSTPOINTS} trustpoints`);
  const issues: Array<{ field: string; message: string }> = [];
  const seen = new Set<string>();
  trustpoints.forEach((tp, i) => {
    if (seen.has(tp.name)) issues.push({ field: `trustpoints.${i}.name`, message: `trustpoint '${tp.name}' is defined twice` });
    seen.add(tp.name);
    const problem = trustpointCaProblem(tp.caCertificate);
    if (problem) issues.push({ field: `trustpoints.${i}.caCertificate`, message: problem });
  });
  if (issues.length > 0) throw validationError(issues);
  return trustpoints.map((tp) => ({ ...tp, caCertificate: tp.caCertificate === null ? null : `${tp.caCertificate.trim()}\n` }));
}

function decodeError(err: PerAppDecodeError): DomainError {
  return new DomainError('anyconnect.perappDecode', `blob (${err.stage} stage): ${err.message}`, {
    field: 'blob',
    stage: err.stage,
  });
}

function parseAsa(text: string) {
  try {
    return parseAsaCliWithReport(text);
  } catch (err) {
    if (err instanceof AsaCliParseError) {
      throw new DomainError('anyconnect.asaParse', err.message, { field: 'text', line: err.line });
    }
    throw err;
  }
}

function counts(config: HeadEndConfig) {
  return {
    perappPolicies: config.perappPolicies.length,
    groupPolicies: config.groupPolicies.length,
    tunnelGroups: config.tunnelGroups.length,
    dapRecords: config.dapRecords.length,
  };
}

/** ACIDex attributes AnyConnect would report for the device; unknown OS version or model are left out (a missing attribute never matches). */
function deviceEndpoint(resolved: ResolvedPolicy): Record<string, string> {
  const d = resolved.device;
  if (!parsePlatform(d.platform)) throw DomainError.validation('deviceUuid', `device platform '${d.platform}' is not iOS or Android`);
  const all = endpointFromDevice({ platform: d.platform, osVersion: d.osVersion ?? '', model: d.model ?? '' });
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== ''));
}

/**
 * The tunnel group of the AnyConnect VPN configurations reaching the device, when they agree on
 * one; `names` lists them (" 'a' (group X), …") for the note or the error.
 */
function deviceTunnelGroup(resolved: ResolvedPolicy): { group?: string; names: string } {
  const rows = resolved.vpnRows.filter((v) => ANYCONNECT_TYPES.has(v.connectionType) && v.group);
  const groups = new Set(rows.map((r) => r.group!));
  const names = rows.length ? ` ${rows.map((r) => `'${r.name}' (group ${r.group})`).join(', ')}` : '';
  return groups.size === 1 ? { group: [...groups][0]!, names } : { names: groups.size > 1 ? names : '' };
}

/**
 * How MobileIron bound the app on this device: not delivered → unmanaged; delivered but not bound
 * → managed without VPNUUID; bound to a non-AnyConnect per-app VPN → not bound as far as
 * AnyConnect is concerned (iOS hands the traffic to that other VPN).
 */
function bindingFromPolicy(resolved: ResolvedPolicy, appId: string): { binding: MdmBinding; notes: string[]; group: string | null } {
  const entry = resolved.apps.find((a) => a.bundleId === appId);
  if (!entry) {
    return {
      binding: { managed: false, vpnUuid: null },
      notes: [
        `MobileIron: '${appId}' is not delivered to this device by the App Catalog (no label shared with the device), so it is not a managed app`,
      ],
      group: null,
    };
  }
  if (entry.vpnUuid === null || entry.vpnConfigurationId === null) {
    return {
      binding: { managed: true, vpnUuid: null },
      notes: [`MobileIron: ${entry.name} (${appId}) is delivered but not bound: ${entry.reason}`],
      group: null,
    };
  }
  const row = resolved.vpnRows.find((v) => v.id === entry.vpnConfigurationId);
  const name = row?.name ?? String(entry.vpnConfigurationId);
  if (row && !ANYCONNECT_TYPES.has(row.connectionType)) {
    return {
      binding: { managed: true, vpnUuid: null, vpnConfigName: name },
      notes: [
        `MobileIron: ${entry.name} (${appId}) is bound to per-app VPN configuration '${name}', a ${row.connectionType} connection, not AnyConnect; its traffic never reaches the ASA`,
      ],
      group: null,
    };
  }
  return {
    binding: { managed: true, vpnUuid: entry.vpnUuid, vpnConfigName: name },
    notes: [`MobileIron: ${entry.name} (${appId}) is bound to per-app VPN configuration '${name}' (${entry.reason})`],
    group: row?.group ?? null,
  };
}
