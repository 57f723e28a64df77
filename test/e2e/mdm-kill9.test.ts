// kill -9 during a stream of MDM command results (issue #19): results commit in groups
// (src/platform/db/group-commit.ts), and a device hears 200 only once its result's transaction
// is on disk. The real server (bin/mockiron.js serve) is SIGKILLed twice while enrolled devices
// answer commands concurrently, then restarted on the same data directory each time.
//
// The device side follows Apple's protocol (Device Management, "Commands and Queries": a device
// PUTs {UDID, CommandUUID, Status} to the ServerURL, the answer carries its next command, and an
// `Idle` status asks for the next one) and the at-least-once rule servers such as NanoMDM keep
// (github.com/micromdm/nanomdm, storage/sqlite/queue.go: a command leaves the queue only when
// its result is stored; one sent and never answered is sent again). Signatures are Mdm-Signature
// (CMS, as test/helpers/device.ts makes them). What was committed is read straight from the
// SQLite file with an independent better-sqlite3 connection right after each kill.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import supertest from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { parsePlist, toXmlPlist, type PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, type TestApp } from '../helpers/app.js';
import { enrolledDevice, type TestDevice } from '../helpers/device.js';
import { spawnServe, type ServedProcess } from '../helpers/serve.js';

const DEVICES = 16;
const COMMANDS_PER_DEVICE = 10;

/** An admin client and device HTTP against a served URL, shaped as enrolledDevice() takes a TestApp. */
function servedApp(url: string): TestApp {
  const agent = supertest(url);
  return {
    app: url,
    admin: {
      get: (p: string) => agent.get(p).auth('admin', adminPassword),
      post: (p: string) => agent.post(p).auth('admin', adminPassword),
      put: (p: string) => agent.put(p).auth('admin', adminPassword),
      delete: (p: string) => agent.delete(p).auth('admin', adminPassword),
    },
  } as unknown as TestApp;
}

/** A device's PUT to /mdm/connect, signed as the device signs it; the answer's status and next command. */
async function connect(url: string, device: TestDevice, dict: PlistDict): Promise<{ status: number; command: PlistDict | null }> {
  const body = Buffer.from(toXmlPlist({ UDID: device.udid, ...dict }));
  const res = await fetch(`${url}/mdm/connect`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/x-apple-aspen-mdm',
      'mdm-signature': signMdmRequest(body, { privateKey: device.key, certificate: device.certificate }),
    },
    body,
  });
  const answer = Buffer.from(await res.arrayBuffer());
  return { status: res.status, command: res.status === 200 && answer.length > 0 ? (parsePlist(answer) as PlistDict) : null };
}

/** Every command's status as committed in the database file. */
function statusesOnDisk(dataDir: string): Map<string, string> {
  const db = new Database(path.join(dataDir, 'mockiron.db'));
  try {
    const rows = db.prepare('SELECT commandUuid, status FROM MdmCommand').all() as Array<{ commandUuid: string; status: string }>;
    return new Map(rows.map((r) => [r.commandUuid, r.status]));
  } finally {
    db.close();
  }
}

describe('kill -9 while devices answer commands', () => {
  it('loses no acknowledged result, delivers no answered command again, and delivers every unanswered one again', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-kill9-'));
    cpSync(inject('templateDataDir'), dataDir, { recursive: true });
    let server: ServedProcess | undefined;
    try {
      // Enroll the fleet and queue the commands on a first server, stopped cleanly.
      server = spawnServe(dataDir);
      let url = await server.url;
      const t = servedApp(url);
      expect((await t.admin.post('/api/v2/users').send({ userId: 'kill9' })).status).toBe(201);
      const devices: TestDevice[] = [];
      for (let i = 0; i < DEVICES; i += 6) {
        devices.push(...(await Promise.all(Array.from({ length: Math.min(6, DEVICES - i) }, () => enrolledDevice(t, 'kill9')))));
      }
      const queued = new Set<string>();
      await Promise.all(
        devices.map(async (device) => {
          for (let i = 0; i < COMMANDS_PER_DEVICE; i++) {
            const res = await t.admin
              .post(`/api/v2/devices/${device.deviceUuid}/commands`)
              .send({ RequestType: 'DeviceInformation', Queries: ['OSVersion'] });
            expect(res.status, JSON.stringify(res.body)).toBe(201);
            queued.add(res.body.results.commandUuid);
          }
        }),
      );
      expect(queued.size).toBe(DEVICES * COMMANDS_PER_DEVICE);
      expect(await server.stop()).toBe(0);

      const acknowledged = new Set<string>(); // results answered 200
      const deliveredAfterAnswer: string[] = [];
      const inFlightAtKill = new Set<string>(); // results sent, no answer when the server died
      const committedUnanswered = new Map<string, number>(); // of those, the ones on disk after the kill, with the kill's round
      const mustRedeliver = new Map<string, number>(); // and the ones not on disk
      const deliveredInRound = new Map<string, number[]>(); // command -> the rounds that delivered it
      // Delivered again after the kill of round `killRound` (a command first delivered in round 1
      // and cut off by the second kill was also delivered "after a restart": only later rounds count).
      const deliveredAfter = (uuid: string, killRound: number) => (deliveredInRound.get(uuid) ?? []).some((r) => r > killRound);

      // Each device: Idle, then answer every command it is given until its queue is empty (or the server dies).
      const drive = async (device: TestDevice, inFlight: Set<string>, round: number) => {
        try {
          let next = await connect(url, device, { Status: 'Idle' });
          while (next.command) {
            const uuid = next.command.CommandUUID as string;
            if (acknowledged.has(uuid)) deliveredAfterAnswer.push(uuid);
            deliveredInRound.set(uuid, [...(deliveredInRound.get(uuid) ?? []), round]);
            inFlight.add(uuid);
            next = await connect(url, device, { CommandUUID: uuid, Status: 'Acknowledged', QueryResponses: { OSVersion: '17.4' } });
            expect(next.status).toBe(200);
            inFlight.delete(uuid);
            acknowledged.add(uuid);
          }
        } catch (err) {
          if (!(err instanceof TypeError)) throw err; // fetch failed: the server was killed
        }
      };

      // Two kills at different depths of the stream, then a run to the end.
      for (const [round, killAfter] of [0.3, 0.65, null].entries()) {
        server = spawnServe(dataDir);
        url = await server.url;
        const inFlight = new Set<string>();
        let driversDone = false;
        const drivers = Promise.all(devices.map((d) => drive(d, inFlight, round))).finally(() => (driversDone = true));
        if (killAfter === null) {
          await drivers;
          expect(await server.stop()).toBe(0);
          break;
        }
        const target = Math.floor(queued.size * killAfter);
        while (acknowledged.size < target && !driversDone) await new Promise((r) => setTimeout(r, 5));
        expect(driversDone, 'the devices stopped before the kill').toBe(false);
        server.child.kill('SIGKILL');
        await server.exit;
        await drivers;
        // Right after the kill, on disk: every result that was answered 200 is recorded Acknowledged.
        const onDisk = statusesOnDisk(dataDir);
        for (const uuid of inFlight) {
          inFlightAtKill.add(uuid);
          (onDisk.get(uuid) === 'Acknowledged' ? committedUnanswered : mustRedeliver).set(uuid, round);
        }
        const lost = [...acknowledged].filter((uuid) => onDisk.get(uuid) !== 'Acknowledged');
        expect(lost, 'results answered 200 but not on disk after kill -9').toEqual([]);
        // The kill interrupted results, not just the gaps between them.
        expect(acknowledged.size).toBeLessThan(queued.size);
      }

      expect(inFlightAtKill.size, 'results in flight when the server was killed').toBeGreaterThan(0);
      expect(deliveredAfterAnswer, 'commands delivered again after their result was answered').toEqual([]);
      const onDisk = statusesOnDisk(dataDir);
      // Nothing lost: every command ends Acknowledged, each through a 200 or through a result
      // committed while its answer was cut off by the kill.
      expect([...queued].filter((uuid) => onDisk.get(uuid) !== 'Acknowledged')).toEqual([]);
      const neverAnswered = [...queued].filter((uuid) => !acknowledged.has(uuid));
      expect(neverAnswered.filter((uuid) => !inFlightAtKill.has(uuid))).toEqual([]);
      // At least once: a result cut off by the kill before its commit was delivered again after the
      // restart; one committed though its answer was cut off was not (its command is done).
      expect([...mustRedeliver].filter(([uuid, killRound]) => !deliveredAfter(uuid, killRound))).toEqual([]);
      expect([...committedUnanswered].filter(([uuid, killRound]) => deliveredAfter(uuid, killRound))).toEqual([]);
    } finally {
      if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
