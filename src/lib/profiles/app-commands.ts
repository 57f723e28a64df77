// The app side of per-app VPN, from a spec's `apps:`: the MDM commands that tell iOS which per-app
// VPN an app's traffic uses — InstallApplication with Attributes.VPNUUID (a new install) and one
// Settings command with an ApplicationAttributes item per app (an app already installed) — plus a
// check of each command against Apple's command schema. The VPNUUIDs are the spec's, the same the
// profile carries, so the two sides cannot disagree. Pure: schemas are handed in.

import { PlistReal, type PlistDict, type PlistValue } from '../plist/types.js';
import type { SchemaKey } from './schema.js';
import type { ProfileSpec } from './spec.js';
import { uuidV5 } from './uuid.js';

/** Apple's command schema as read from mdm/commands/*.yaml: the request type and its keys. */
export interface CommandSchema {
  payload: { requesttype: string };
  payloadkeys: SchemaKey[];
}

// ManagementFlags 1: remove the app when the MDM profile is removed (Apple's InstallApplication docs)
const REMOVE_WITH_MDM_PROFILE = 1;

/** CommandUUIDs are UUIDv5 names in the spec's namespace: rebuilding gives the same commands. */
function commandUuid(spec: ProfileSpec, ...parts: string[]): string {
  return uuidV5(spec.namespace, ['mockiron/command', spec.profile.identifier, ...parts].join('/')).toUpperCase();
}

/** Each app's VPNUUID: the one of the VPN configuration it names (validated by the spec schema). */
export function appVpnUuids(spec: ProfileSpec): Array<{ bundleId: string; vpnUuid: string; vpnConfiguration: string }> {
  return spec.apps.map((app) => {
    const config = spec.vpnConfigurations.find((c) => c.name === app.vpnConfiguration);
    if (!config?.vpnUuid) throw new Error(`app ${app.bundleId}: VPN configuration ${app.vpnConfiguration} missing (unvalidated spec)`);
    return { bundleId: app.bundleId, vpnUuid: config.vpnUuid, vpnConfiguration: app.vpnConfiguration };
  });
}

/** The commands (each `{ CommandUUID, Command }`, as an MDM server sends them) for the spec's apps; empty without apps. */
export function buildAppCommands(spec: ProfileSpec): PlistDict[] {
  const apps = appVpnUuids(spec);
  if (apps.length === 0) return [];
  const installs: PlistDict[] = apps.map((app) => ({
    CommandUUID: commandUuid(spec, 'InstallApplication', app.bundleId),
    Command: {
      RequestType: 'InstallApplication',
      Identifier: app.bundleId,
      ManagementFlags: REMOVE_WITH_MDM_PROFILE,
      Attributes: { VPNUUID: app.vpnUuid },
    },
  }));
  const settings: PlistDict = {
    CommandUUID: commandUuid(spec, 'Settings', 'ApplicationAttributes'),
    Command: {
      RequestType: 'Settings',
      Settings: apps.map((app) => ({ Item: 'ApplicationAttributes', Identifier: app.bundleId, Attributes: { VPNUUID: app.vpnUuid } })),
    },
  };
  return [...installs, settings];
}

export interface CommandFinding {
  /** Key path inside the command, e.g. `Command.Settings[0].Attributes.VPNUUID`. */
  path: string;
  message: string;
}

function typeOf(value: PlistValue): string {
  if (typeof value === 'string') return '<string>';
  if (typeof value === 'boolean') return '<boolean>';
  if (typeof value === 'number' || typeof value === 'bigint') return Number.isInteger(Number(value)) ? '<integer>' : '<real>';
  if (value instanceof PlistReal) return '<real>';
  if (value instanceof Date) return '<date>';
  if (value instanceof Uint8Array) return '<data>';
  if (Array.isArray(value)) return '<array>';
  return '<dictionary>';
}

function typeMatches(schemaType: string | undefined, value: PlistValue): boolean {
  if (schemaType === undefined || schemaType === '<any>') return true;
  const actual = typeOf(value);
  return actual === schemaType || (schemaType === '<real>' && actual === '<integer>');
}

function checkValue(value: PlistValue, key: SchemaKey, path: string, findings: CommandFinding[]): void {
  if (!typeMatches(key.type, value)) {
    findings.push({ path, message: `expected ${key.type}, found ${typeOf(value)}` });
    return;
  }
  if (key.rangelist && !key.rangelist.includes(value as never)) {
    findings.push({ path, message: `${JSON.stringify(value)} is not one of ${key.rangelist.map((v) => JSON.stringify(v)).join(', ')}` });
  }
  const subkeys = key.subkeys ?? [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      // An array of alternatives (Settings) picks its item schema by the item's `Item`
      const byItem = subkeys.length > 1 && typeOf(item) === '<dictionary>' ? subkeys.find((k) => k.key === (item as PlistDict).Item) : undefined;
      const itemKey = subkeys.length === 1 ? subkeys[0] : byItem;
      if (!itemKey) findings.push({ path: `${path}[${i}]`, message: 'matches no item the schema defines' });
      else checkValue(item, itemKey, `${path}[${i}]`, findings);
    });
  } else if (typeOf(value) === '<dictionary>' && subkeys.length > 0) {
    checkDictionary(value as PlistDict, subkeys, path, findings);
  }
}

function checkDictionary(dict: PlistDict, keys: readonly SchemaKey[], path: string, findings: CommandFinding[]): void {
  const open = keys.some((k) => k.key === 'ANY');
  for (const [name, value] of Object.entries(dict)) {
    if (value === undefined) continue;
    const key = keys.find((k) => k.key === name);
    const at = path ? `${path}.${name}` : name;
    if (!key) {
      if (!open) findings.push({ path: at, message: "unknown key: not in Apple's schema" });
      continue;
    }
    checkValue(value, key, at, findings);
  }
  for (const key of keys) {
    if (key.presence === 'required' && key.key !== 'ANY' && !(key.key in dict)) {
      findings.push({ path: path ? `${path}.${key.key}` : key.key, message: 'required key missing' });
    }
  }
}

/**
 * Checks one `{ CommandUUID, Command }` against its request type's schema: known keys, required
 * keys, types and allowed values, recursively. An empty list means it conforms.
 */
export function checkAppCommand(command: PlistDict, schemas: ReadonlyMap<string, CommandSchema>): CommandFinding[] {
  const findings: CommandFinding[] = [];
  const body = command.Command;
  if (typeof command.CommandUUID !== 'string' || command.CommandUUID === '') findings.push({ path: 'CommandUUID', message: 'required string missing' });
  if (typeOf(body ?? '') !== '<dictionary>') return [...findings, { path: 'Command', message: 'required dictionary missing' }];
  const requestType = (body as PlistDict).RequestType;
  const schema = typeof requestType === 'string' ? schemas.get(requestType) : undefined;
  if (!schema) return [...findings, { path: 'Command.RequestType', message: `no schema for request type ${String(requestType)}` }];
  const { RequestType: _requestType, ...keys } = body as PlistDict;
  checkDictionary(keys, schema.payloadkeys, 'Command', findings);
  return findings;
}
