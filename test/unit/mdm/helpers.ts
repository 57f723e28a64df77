// Test helpers: the real device messages under test/fixtures/device-messages, and a checker that
// holds plist values against Apple's YAML schemas (apple/device-management), the independent
// judge of key names and types for commands and profile payloads.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { isPlistDict, plistTypeOf, type PlistValue } from '../../../src/lib/plist/index.js';

export const DEVICE_MESSAGES = fileURLToPath(new URL('../../fixtures/device-messages/', import.meta.url));

export function deviceMessage(path: string): Buffer {
  return readFileSync(join(DEVICE_MESSAGES, path));
}

/** Every file under test/fixtures/device-messages, as paths relative to it. */
export function allDeviceMessageFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? walk(full) : [relative(DEVICE_MESSAGES, full)];
    });
  return walk(DEVICE_MESSAGES).sort();
}

// Commands and check-in schemas are only in the shared reference copy; profile schemas are vendored.
export const APPLE_MDM_COMMANDS = fileURLToPath(new URL('../../../vendor/apple-device-management/mdm/commands/', import.meta.url));
export const APPLE_MDM_PROFILES = fileURLToPath(new URL('../../../vendor/apple-device-management/mdm/profiles/', import.meta.url));

export interface YamlKey {
  key: string;
  type: string;
  presence?: 'required' | 'optional';
  rangelist?: unknown[];
  subkeys?: YamlKey[];
}

export interface YamlSchema {
  payload: { requesttype?: string; payloadtype?: string };
  payloadkeys?: YamlKey[];
  responsekeys?: YamlKey[];
}

let commandSchemas: Map<string, YamlSchema> | undefined;

/** Apple's schema for a RequestType, found by its payload.requesttype (file names differ). */
export function commandYaml(requestType: string): YamlSchema {
  if (!commandSchemas) {
    commandSchemas = new Map();
    for (const name of readdirSync(APPLE_MDM_COMMANDS).filter((n) => n.endsWith('.yaml'))) {
      const schema = parseYaml(readFileSync(join(APPLE_MDM_COMMANDS, name), 'utf8')) as YamlSchema;
      commandSchemas.set(schema.payload.requesttype!, schema);
    }
  }
  const schema = commandSchemas.get(requestType);
  if (!schema) throw new Error(`no Apple YAML for RequestType ${requestType}`);
  return schema;
}

export function profileYaml(payloadType: string): YamlSchema {
  return parseYaml(readFileSync(join(APPLE_MDM_PROFILES, `${payloadType}.yaml`), 'utf8')) as YamlSchema;
}

function typeMatches(yamlType: string, value: PlistValue): boolean {
  const actual = `<${plistTypeOf(value)}>`;
  return yamlType === '<any>' || yamlType === actual || (yamlType === '<real>' && actual === '<integer>');
}

/**
 * Problems found holding `dict` against Apple's `keys`: missing required keys, keys Apple does not
 * document, wrong types, values outside a rangelist; recursing into dictionaries and arrays.
 * `ignore` lists keys checked elsewhere (e.g. RequestType, or the common Payload* keys).
 */
export function checkAgainstYaml(dict: PlistValue, keys: YamlKey[], path = '', ignore: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (!isPlistDict(dict)) return [`${path || 'value'} is not a dictionary`];
  const byName = new Map(keys.map((k) => [k.key, k]));
  const open = byName.has('ANY');
  for (const spec of keys) {
    if (spec.presence === 'required' && spec.key !== 'ANY' && dict[spec.key] === undefined && !ignore.includes(spec.key)) {
      problems.push(`${path}${spec.key} is required`);
    }
  }
  for (const [key, value] of Object.entries(dict)) {
    if (value === undefined || ignore.includes(key)) continue;
    const spec = byName.get(key) ?? (open ? byName.get('ANY') : undefined);
    if (!spec) {
      problems.push(`${path}${key} is not a documented key`);
      continue;
    }
    problems.push(...checkValue(value, spec, `${path}${key}`));
  }
  return problems;
}

function checkValue(value: PlistValue, spec: YamlKey, path: string): string[] {
  if (!typeMatches(spec.type, value)) return [`${path} must be ${spec.type}, not <${plistTypeOf(value)}>`];
  const problems: string[] = [];
  if (spec.rangelist && !spec.rangelist.includes(value as never)) {
    problems.push(`${path} = ${JSON.stringify(value)} is not one of ${JSON.stringify(spec.rangelist)}`);
  }
  // A string key whose "subkeys" list names (DeviceInformation's QueriesItem): the value must be one of them
  if (spec.type === '<string>' && spec.subkeys?.length) {
    const names = spec.subkeys.map((k) => k.key);
    if (!names.includes(value as string)) problems.push(`${path} = "${String(value)}" is not one of the documented names`);
  }
  if (spec.type === '<dictionary>' && spec.subkeys?.length) {
    problems.push(...checkAgainstYaml(value, spec.subkeys, `${path}.`));
  }
  if (spec.type === '<array>' && Array.isArray(value) && spec.subkeys?.length) {
    value.forEach((item, i) => {
      const itemPath = `${path}[${i}]`;
      // Settings-style arrays list one dictionary schema per kind, told apart by the Item key's rangelist
      const element =
        spec.subkeys!.length === 1
          ? spec.subkeys![0]
          : spec.subkeys!.find((s) => isPlistDict(item) && s.subkeys?.find((k) => k.key === 'Item')?.rangelist?.includes(item.Item));
      if (!element) problems.push(`${itemPath} matches none of the documented element kinds`);
      else problems.push(...checkValue(item, element, itemPath));
    });
  }
  return problems;
}
