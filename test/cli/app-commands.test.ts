// The app side of per-app VPN from a spec's apps: (issue #20). Apple's InstallApplication and
// Settings/ApplicationAttributes commands carry Attributes.VPNUUID (apple/device-management,
// mdm/commands/application.install.yaml and settings.yaml, vendored here); what
// `mockiron profile app-commands` prints is read back by Python's plistlib — a parser nobody here
// wrote — and each VPNUUID must equal the one the spec's profile carries, read the same way, so
// the two sides of the binding cannot disagree. The schema check is shown to catch doctored
// commands. com.apple.vpn.managed.appmapping is macOS-only in Apple's schema (iOS: n/a), so an
// iOS spec gets no such payload.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { checkAppCommand, buildAppCommands } from '../../src/lib/profiles/app-commands.js';
import { parseProfileSpec } from '../../src/lib/profiles/spec.js';
import { loadAppCommandSchemas } from '../../src/profiles/schema-loader.js';
import { tempDir } from '../unit/signing/helpers.js';

const temp = tempDir('mockiron-app-commands-');
afterAll(() => temp.cleanup());

/** Python's plistlib reading XML plist bytes, answering JSON. */
function plistlib(xml: Buffer): any {
  const r = spawnSync('python3', ['-c', 'import sys, json, plistlib; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {
    input: xml,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function appCommands(spec: string) {
  const r = await runCli(['profile', 'app-commands', spec]);
  expect(r.code, r.stderr).toBe(0);
  return { commands: plistlib(r.stdoutBytes), bytes: r.stdoutBytes, stderr: r.stderr };
}

describe('mockiron profile app-commands', () => {
  it('the seed spec: InstallApplication and Settings for Chrome and RDP, with the VPNUUID of the profile built from the same spec', async () => {
    const { commands, bytes, stderr } = await appCommands('profiles/vpndemo-external.yaml');
    expect(stderr).toContain("3 command(s) for 2 app(s); Apple's schema: ok");
    const profile = plistlib((await runCli(['profile', 'build', 'profiles/vpndemo-external.yaml'])).stdoutBytes);
    const profileVpnUuid = profile.PayloadContent[0].VPNUUID;
    expect(profileVpnUuid).toMatch(/^[0-9a-fA-F-]{36}$/);
    expect(commands.map((c: any) => [c.Command.RequestType, c.Command.Identifier ?? null])).toEqual([
      ['InstallApplication', 'com.google.chrome.ios'],
      ['InstallApplication', 'com.microsoft.rdc.ios'],
      ['Settings', null],
    ]);
    for (const c of commands.slice(0, 2)) expect(c.Command.Attributes).toEqual({ VPNUUID: profileVpnUuid });
    expect(commands[2].Command.Settings).toEqual([
      { Item: 'ApplicationAttributes', Identifier: 'com.google.chrome.ios', Attributes: { VPNUUID: profileVpnUuid } },
      { Item: 'ApplicationAttributes', Identifier: 'com.microsoft.rdc.ios', Attributes: { VPNUUID: profileVpnUuid } },
    ]);
    expect(new Set(commands.map((c: any) => c.CommandUUID)).size).toBe(3);
    // reproducible: the CommandUUIDs are names, not random
    expect((await appCommands('profiles/vpndemo-external.yaml')).bytes.equals(bytes)).toBe(true);
  });

  it('a spec without vpnUuid: the derived VPNUUID is the same in the profile and the commands', async () => {
    const spec = join(temp.dir, 'derived.yaml');
    writeFileSync(
      spec,
      `profile: {identifier: com.example.qa.derived, displayName: Derived}
vpnConfigurations:
  - {name: corp, connectionType: IKEV2, server: vpn.example.com}
apps:
  - {bundleId: com.example.mail, vpnConfiguration: corp}
`,
    );
    const profile = plistlib((await runCli(['profile', 'build', spec])).stdoutBytes);
    const { commands } = await appCommands(spec);
    expect(commands[0].Command.Attributes.VPNUUID).toBe(profile.PayloadContent[0].VPNUUID);
    expect(commands[1].Command.Settings[0].Attributes.VPNUUID).toBe(profile.PayloadContent[0].VPNUUID);
  });

  it('a spec without apps is an error naming the missing section', async () => {
    const r = await runCli(['profile', 'app-commands', 'profiles/l2tp.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no apps: section');
    expect(r.stdout).toBe('');
  });
});

describe("the check against Apple's command schemas", () => {
  const schemas = loadAppCommandSchemas();
  const spec = parseProfileSpec(readText('profiles/vpndemo-external.yaml'), 'vpndemo-external.yaml');

  it('passes what the builder makes and catches doctored commands', () => {
    for (const c of buildAppCommands(spec)) expect(checkAppCommand(c, schemas)).toEqual([]);
    const [install, , settings] = buildAppCommands(spec) as any[];
    install.Command.Attributes.VPNUUID = 7;
    install.Command.Attributs = {};
    expect(checkAppCommand(install, schemas)).toEqual([
      { path: 'Command.Attributes.VPNUUID', message: 'expected <string>, found <integer>' },
      { path: 'Command.Attributs', message: "unknown key: not in Apple's schema" },
    ]);
    delete settings.Command.Settings[0].Identifier;
    settings.Command.Settings[1].Item = 'AppAttributes';
    expect(checkAppCommand(settings, schemas)).toEqual([
      { path: 'Command.Settings[0].Identifier', message: 'required key missing' },
      { path: 'Command.Settings[1]', message: 'matches no item the schema defines' },
    ]);
  });
});

function readText(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

describe('one spec drives the profile and the AnyConnect session', () => {
  const readme = readFileSync(join(ROOT, 'examples/seed-vpndemo/README.md'), 'utf8');
  const specCommands = readme
    .split('\n')
    .filter((line) => line.startsWith('mockiron anyconnect simulate') && line.includes('--spec'))
    .map((line) => line.split(' ').slice(1));

  it('the README’s --spec commands, run as written, agree with the seed session (exit 0, then 3)', async () => {
    expect(specCommands).toHaveLength(2);
    const codes = [];
    for (const args of specCommands) {
      const withSpec = await runCli(args);
      const withSession = await runCli(
        args
          .map((a) => (a === 'examples/seed-vpndemo/ipad.yaml' ? 'examples/seed-vpndemo/session-ipad.yaml' : a))
          .filter((a, i, all) => a !== '--spec' && all[i - 1] !== '--spec'),
      );
      expect(withSpec.code).toBe(withSession.code);
      expect(withSpec.stdout).toBe(withSession.stdout);
      expect(withSpec.stderr).toContain("tunnel group 'vpndemo' from VPN configuration 'vpndemo-external'");
      codes.push(withSpec.code);
    }
    expect(codes).toEqual([0, 3]);
  });

  it('the seed session’s VPNUUIDs are the profile’s, and --json shows the spec’s binding', async () => {
    const profile = plistlib((await runCli(['profile', 'build', 'profiles/vpndemo-external.yaml'])).stdoutBytes);
    const session = readFileSync(join(ROOT, 'examples/seed-vpndemo/session-ipad.yaml'), 'utf8');
    const uuids = [...session.matchAll(/vpnUuid: (\S+)/g)].map((m) => m[1]);
    expect(uuids).toEqual([profile.PayloadContent[0].VPNUUID, profile.PayloadContent[0].VPNUUID]);
    const json = await runCli([...specCommands[0]!, '--json']);
    expect(JSON.parse(json.stdout).mdm.binding).toEqual({
      managed: true,
      vpnUuid: profile.PayloadContent[0].VPNUUID,
      vpnConfigName: 'vpndemo-external',
    });
  });

  it('bindings in both the session and the spec are refused; no tunnel group anywhere is an error', async () => {
    const both = await runCli([
      'anyconnect',
      'simulate',
      'examples/seed-vpndemo/headend.yaml',
      '--session',
      'examples/seed-vpndemo/session-ipad.yaml',
      '--spec',
      'profiles/vpndemo-external.yaml',
      '--app',
      'com.google.chrome.ios',
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('mdmBindings come from --spec');
    const none = await runCli([
      'anyconnect',
      'simulate',
      'examples/seed-vpndemo/headend.yaml',
      '--session',
      'examples/seed-vpndemo/ipad.yaml',
      '--app',
      'x.y',
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('tunnelGroup (the connection profile name) is required');
  });
});
