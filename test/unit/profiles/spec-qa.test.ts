// Spec files as QA writes them (issue #20): JSON syntax errors in JSON's terms with line and
// column (RFC 8259's grammar: no trailing commas, no single quotes), and vpnUuid derived when absent
// as a name-based UUID (RFC 9562 §5.5, version 5) — recomputed here with an independent
// implementation, Python's uuid.uuid5, so the documented recipe is checked, not our own code.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from '../../../src/lib/profiles/json-syntax.js';
import { derivedVpnUuid, parseProfileSpec, SpecError, VPN_UUID_NAMESPACE } from '../../../src/lib/profiles/spec.js';

function python(code: string): string {
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

function specError(text: string, file: string): string {
  try {
    parseProfileSpec(text, file);
  } catch (err) {
    if (err instanceof SpecError) return err.message;
    throw err;
  }
  throw new Error('expected a SpecError');
}

const JSON_SPEC = `{
  "profile": { "identifier": "com.example.vpn", "displayName": "Demo" },
  "vpnConfigurations": [
    { "name": "a", "connectionType": "IKEV2", "server": "10.0.0.1" }
  ]
}
`;

describe('JSON spec syntax errors', () => {
  it.each([
    ['a trailing comma', JSON_SPEC.replace('"10.0.0.1" }', '"10.0.0.1", }'), 'spec.json:4:69: JSON syntax error: trailing comma before \'}\' (JSON allows none)'],
    ['single quotes', JSON_SPEC.replace('"name": "a"', "'name': 'a'"), 'spec.json:4:7: JSON syntax error: expected a property name in double quotes, found a single quote (JSON strings take double quotes)'],
    ['a missing comma', JSON_SPEC.replace('"IKEV2",', '"IKEV2"'), "spec.json:4:46: JSON syntax error: expected ',' or '}', found '\"'"],
    ['a cut-off file', JSON_SPEC.slice(0, JSON_SPEC.indexOf('"displayName"')), 'spec.json:2:49: JSON syntax error: expected a property name in double quotes, found the end of the text'],
    ['a comment', `// header\n${JSON_SPEC}`, 'spec.json:1:1: JSON syntax error: expected a value (string, number, object, array, true, false or null), found \'/\''],
  ])('%s: line and column in JSON terms', (_what, text, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(specError(text, 'spec.json')).toBe(message);
  });

  it('agrees with JSON.parse on what is valid, over valid and broken texts alike', () => {
    const samples = ['{}', '[]', '0', '-1.5e+3', '"x\\u00e9\\n"', '{"a":[1,{"b":null}],"c":true}', ' [ 1 , 2 ] ', '{"a":1,}', '[01]', '"\\x"', '{"a"}', '[1,]', '', 'nul', '{"a":1}}', '"\t"'];
    for (const text of samples) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(findJsonSyntaxError(text) === undefined, JSON.stringify(text)).toBe(valid);
    }
  });

  it('a YAML spec keeps YAML messages; valid JSON still gets schema errors with positions', () => {
    expect(specError(JSON_SPEC.replace('"IKEV2"', '"IKEV3"'), 'spec.json')).toMatch(/^spec\.json:4:38: vpnConfigurations\[0\]\.connectionType: /);
  });
});

describe('derived vpnUuid', () => {
  it('the namespace is UUIDv5 of vpnuuid.mockiron.invalid in the DNS namespace, as documented', () => {
    expect(VPN_UUID_NAMESPACE).toBe(python("import uuid; print(uuid.uuid5(uuid.NAMESPACE_DNS, 'vpnuuid.mockiron.invalid'))"));
  });

  it('a configuration without vpnUuid gets UUIDv5("<identifier>/<name>"), upper case, as Python computes it', () => {
    const spec = parseProfileSpec(JSON_SPEC, 'spec.json');
    const expected = python(`import uuid; print(str(uuid.uuid5(uuid.UUID('${VPN_UUID_NAMESPACE}'), 'com.example.vpn/a')).upper())`);
    expect(spec.vpnConfigurations[0]!.vpnUuid).toBe(expected);
    expect(derivedVpnUuid('com.example.vpn', 'a')).toBe(expected);
  });

  it('depends on the identifier and the name, not on the PayloadUUID namespace; an explicit one wins', () => {
    const a = parseProfileSpec(JSON_SPEC, 'spec.json').vpnConfigurations[0]!.vpnUuid;
    const otherNamespace = JSON_SPEC.replace('{\n', '{\n  "namespace": "11111111-2222-4333-8444-555555555555",\n');
    expect(parseProfileSpec(otherNamespace, 'spec.json').vpnConfigurations[0]!.vpnUuid).toBe(a);
    expect(parseProfileSpec(JSON_SPEC.replace('"name": "a"', '"name": "b"'), 'spec.json').vpnConfigurations[0]!.vpnUuid).not.toBe(a);
    expect(parseProfileSpec(JSON_SPEC.replace('com.example.vpn', 'com.example.other'), 'spec.json').vpnConfigurations[0]!.vpnUuid).not.toBe(a);
    const explicit = JSON_SPEC.replace('"server": "10.0.0.1"', '"server": "10.0.0.1", "vpnUuid": "3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10"');
    expect(parseProfileSpec(explicit, 'spec.json').vpnConfigurations[0]!.vpnUuid).toBe('3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10');
  });

  it('two configurations, one derived and one explicit with the same value, are still duplicates', () => {
    const derived = derivedVpnUuid('com.example.vpn', 'a');
    const two = JSON_SPEC.replace(
      '"server": "10.0.0.1" }',
      `"server": "10.0.0.1" },\n    { "name": "b", "connectionType": "IKEV2", "server": "10.0.0.2", "vpnUuid": "${derived}" }`,
    );
    expect(specError(two, 'spec.json')).toContain(`vpnConfigurations[1].vpnUuid: duplicate vpnUuid ${derived}`);
  });
});
