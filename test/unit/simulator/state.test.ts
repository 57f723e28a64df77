import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newDeviceState } from '../../../src/simulator/device.js';
import {
  loadFleetState,
  saveFleetState,
  StateFileError,
  StateWriter,
  STATE_FILE_VERSION,
  type FleetState,
} from '../../../src/simulator/state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-sim-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sampleState(devices = 2): FleetState {
  const state: FleetState = {
    version: STATE_FILE_VERSION,
    server: 'http://localhost:8080',
    seed: 'state-test',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    devices: Array.from({ length: devices }, (_, i) => newDeviceState('state-test', i)),
  };
  state.devices[0]!.status = 'enrolled';
  state.devices[0]!.mdm = {
    serverUrl: 'http://localhost:8080/mdm/connect',
    checkInUrl: 'http://localhost:8080/mdm/checkin',
    topic: 'com.apple.mgmt.External.x',
    signMessage: true,
    identitySource: 'scep',
    identityKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    identityCertificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    pushToken: 'dG9rZW4=',
    pushMagic: 'MAGIC',
    unlockToken: 'dW5sb2Nr',
    enrolledAt: '2024-01-01T00:00:00.000Z',
  };
  state.devices[0]!.apps['com.google.chrome.ios'] = {
    identifier: 'com.google.chrome.ios',
    attributes: { VPNUUID: 'V-1' },
    hasConfiguration: false,
    installedAt: '2024-01-01T00:00:00.000Z',
  };
  return state;
}

describe('state file', () => {
  it('round-trips the fleet exactly', async () => {
    const file = path.join(dir, 'state.json');
    const state = sampleState();
    await saveFleetState(file, state);
    expect(await loadFleetState(file)).toEqual(state);
  });

  it('is written 0600 (it holds private keys), also when it replaces a file that was readable by others', async () => {
    const file = path.join(dir, 'state.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o644);
    await saveFleetState(file, sampleState());
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('leaves no temporary file behind', async () => {
    const file = path.join(dir, 'state.json');
    await saveFleetState(file, sampleState());
    await saveFleetState(file, sampleState(3));
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('reads a missing file as undefined and refuses files that are not state files', async () => {
    expect(await loadFleetState(path.join(dir, 'absent.json'))).toBeUndefined();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{not json');
    await expect(loadFleetState(bad)).rejects.toThrow(StateFileError);
    writeFileSync(bad, JSON.stringify({ version: 99, devices: [] }));
    await expect(loadFleetState(bad)).rejects.toThrow(/not a simulator state file/);
  });

  it('StateWriter coalesces overlapping saves and ends with the latest snapshot', async () => {
    const file = path.join(dir, 'state.json');
    const state = sampleState();
    const writer = new StateWriter(file, () => state);
    const saves = [];
    for (let i = 0; i < 10; i++) {
      state.updatedAt = `2024-01-01T00:00:0${i}.000Z`;
      saves.push(writer.save());
    }
    await Promise.all(saves);
    expect((await loadFleetState(file))!.updatedAt).toBe('2024-01-01T00:00:09.000Z');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});
