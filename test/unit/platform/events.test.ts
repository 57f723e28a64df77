import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/platform/events.js';

function recordingLogger() {
  const errors: Array<{ event: string; message: string }> = [];
  return {
    errors,
    logger: { error: (o: { err: unknown; event: string }) => errors.push({ event: o.event, message: (o.err as Error).message }) } as never,
  };
}

describe('EventBus', () => {
  it('delivers a payload to the subscribers of its event only, in subscription order', () => {
    const bus = new EventBus(recordingLogger().logger);
    const seen: string[] = [];
    bus.subscribe('devices.changed', ({ deviceIds }) => void seen.push(`first ${deviceIds.join(',')}`));
    bus.subscribe('devices.changed', ({ deviceIds }) => void seen.push(`second ${deviceIds.join(',')}`));
    bus.subscribe('users.changed', () => void seen.push('users'));
    bus.publish('devices.changed', { deviceIds: [1, 2] });
    expect(seen).toEqual(['first 1,2', 'second 1,2']);
  });

  it('logs a throwing subscriber and still calls the others; the publisher never sees the error', () => {
    const { logger, errors } = recordingLogger();
    const bus = new EventBus(logger);
    const seen: number[][] = [];
    bus.subscribe('labels.membershipChanged', () => {
      throw new Error('boom');
    });
    bus.subscribe('labels.membershipChanged', ({ deviceIds }) => void seen.push(deviceIds));
    expect(() => bus.publish('labels.membershipChanged', { deviceIds: [7] })).not.toThrow();
    expect(seen).toEqual([[7]]);
    expect(errors).toEqual([{ event: 'labels.membershipChanged', message: 'boom' }]);
  });

  it('logs a subscriber whose promise rejects (no unhandled rejection)', async () => {
    const { logger, errors } = recordingLogger();
    const bus = new EventBus(logger);
    bus.subscribe('users.changed', async () => {
      await Promise.resolve();
      throw new Error('later');
    });
    bus.publish('users.changed', { deviceIds: [3] });
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([{ event: 'users.changed', message: 'later' }]);
  });

  it('stops delivering once unsubscribed, including from inside a delivery', () => {
    const bus = new EventBus(recordingLogger().logger);
    const seen: string[] = [];
    const off = bus.subscribe('devices.changed', () => {
      seen.push('once');
      off();
    });
    bus.subscribe('devices.changed', () => void seen.push('always'));
    bus.publish('devices.changed', { deviceIds: [1] });
    bus.publish('devices.changed', { deviceIds: [1] });
    expect(seen).toEqual(['once', 'always', 'always']);
  });
});
