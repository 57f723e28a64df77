import { describe, expect, it } from 'vitest';
import { Metrics, percentile, summarizeLatency } from '../../../src/simulator/metrics.js';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

  it('gives the k-th smallest value for p = k on 1..100', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 90)).toBe(90);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('rounds the rank up on small samples', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
    expect(percentile([10, 20, 30, 40], 99)).toBe(40);
    expect(percentile([7], 99)).toBe(7);
    // p99 of 1000 samples is the 990th: one slow outlier in a thousand does not move it
    const samples = [...Array.from({ length: 999 }, () => 5), 5000];
    expect(percentile(samples, 99)).toBe(5);
    expect(percentile(samples, 100)).toBe(5000);
  });

  it('is undefined without samples and refuses p outside 0..100', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it("does not reorder the caller's array", () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('summarizeLatency', () => {
  it('summarises min, percentiles, max and mean', () => {
    expect(summarizeLatency([4, 1, 3, 2])).toEqual({ count: 4, min: 1, p50: 2, p90: 4, p99: 4, max: 4, mean: 2.5 });
    expect(summarizeLatency([])).toBeUndefined();
  });
});

describe('Metrics', () => {
  it('counts requests by kind and status, commands by type and status, errors and fault answers', () => {
    const m = new Metrics();
    m.recordRequest('connect-idle', 10, 200);
    m.recordRequest('connect-idle', 30, 200);
    m.recordRequest('checkin-authenticate', 5, 401);
    m.recordCommand('InstallProfile', 'Acknowledged');
    m.recordCommand('InstallProfile', 'NotNow');
    m.recordCommand('DeviceLock', 'Acknowledged');
    m.recordError('connect', 'answered 500');
    m.recordFault('corrupt-signature', 401, false);
    m.recordFault('corrupt-signature', 200, true);
    m.noteFault('drop-connection', 'then-next-command');
    const s = m.summary({ total: 2, enrolled: 2, unenrolled: 0, erased: 0 });
    expect(s.requests.total).toBe(3);
    expect(s.requests.byStatus).toEqual({ 200: 2, 401: 1 });
    expect(s.latency['connect-idle']).toMatchObject({ count: 2, p50: 10, max: 30 });
    expect(s.commands).toEqual({ InstallProfile: { Acknowledged: 1, NotNow: 1 }, DeviceLock: { Acknowledged: 1 } });
    expect(s.commandsHandled).toBe(3);
    expect(s.errors).toMatchObject({ total: 1, byKind: { connect: 1 } });
    expect(s.faults['corrupt-signature']).toEqual({ sent: 2, answers: { 401: 1, 200: 1 }, accepted: 1, notes: {} });
    expect(s.faults['drop-connection']!.notes).toEqual({ 'then-next-command': 1 });
  });
});
