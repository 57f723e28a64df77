// The device write log (src/devices/store.ts): the ids noted since a reader's position, in order,
// and null once the ring no longer holds them all — the device directory then reloads instead of
// missing a write.
import { describe, expect, it } from 'vitest';
import { DeviceWriteLog } from '../../../src/devices/store.js';

describe('DeviceWriteLog', () => {
  it('answers the ids noted since a position, in order, repeats kept', () => {
    const log = new DeviceWriteLog(8);
    const start = log.position;
    log.note(3);
    log.noteMany([5, 3, 9]);
    expect(log.since(start)).toEqual([3, 5, 3, 9]);
    expect(log.since(start + 2)).toEqual([3, 9]);
    expect(log.since(log.position)).toEqual([]);
  });

  it('wraps around the ring and still answers a reader within its capacity', () => {
    const log = new DeviceWriteLog(4);
    log.noteMany([1, 2, 3, 4, 5, 6]);
    expect(log.since(2)).toEqual([3, 4, 5, 6]);
  });

  it('answers null to a reader that fell further behind than the ring holds, or is ahead of it', () => {
    const log = new DeviceWriteLog(4);
    log.noteMany([1, 2, 3, 4, 5]);
    expect(log.since(0)).toBeNull();
    expect(log.since(log.position + 1)).toBeNull();
  });
});
