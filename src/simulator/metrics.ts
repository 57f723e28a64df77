// What a fleet run measured: requests and latency per request kind, commands per RequestType and
// Status, enrollments, errors and the server's answers to injected faults.

/** Nearest-rank percentile (p in 0..100) of unsorted samples; undefined for no samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface LatencySummary {
  count: number;
  /** Milliseconds, rounded to 0.1. */
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export function summarizeLatency(samples: readonly number[]): LatencySummary | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: round(sorted[0]!),
    p50: round(percentile(sorted, 50)!),
    p90: round(percentile(sorted, 90)!),
    p99: round(percentile(sorted, 99)!),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

export interface FaultOutcome {
  /** Probes sent. */
  sent: number;
  /** HTTP status (or "network-error", "dropped") → count. */
  answers: Record<string, number>;
  /** Probes the server accepted although it should have refused them: each one is a server bug. */
  accepted: number;
  /** Free-form observations, e.g. whether a dropped answer was redelivered. */
  notes: Record<string, number>;
}

/** Device counts at the end of a run, from the devices' own states. */
export interface DeviceCounts {
  total: number;
  enrolled: number;
  unenrolled: number;
  erased: number;
}

export interface MetricsSummary {
  elapsedSeconds: number;
  devices: DeviceCounts & { enrolledThisRun: number; enrollmentFailures: number };
  requests: { total: number; perSecond: number; byStatus: Record<string, number> };
  latency: Record<string, LatencySummary>;
  /** RequestType → Status → count. */
  commands: Record<string, Record<string, number>>;
  commandsHandled: number;
  /** Commands the server delivered again after this device had answered them: each one is a server bug. */
  duplicateDeliveries: number;
  errors: { total: number; byKind: Record<string, number>; samples: string[] };
  faults: Record<string, FaultOutcome>;
}

const MAX_ERROR_SAMPLES = 20;

export class Metrics {
  /** When the measured run began (restart() moves it past preparation such as key generation). */
  startedAt = performance.now();

  restart(): void {
    this.startedAt = performance.now();
  }
  #latency = new Map<string, number[]>();
  #statuses: Record<string, number> = {};
  #requests = 0;
  #commands: Record<string, Record<string, number>> = {};
  #commandsHandled = 0;
  #duplicateDeliveries = 0;
  #errors: Record<string, number> = {};
  #errorTotal = 0;
  #errorSamples: string[] = [];
  #faults: Record<string, FaultOutcome> = {};
  enrolledThisRun = 0;
  enrollmentFailures = 0;

  recordRequest(kind: string, ms: number, status: number | string): void {
    this.#requests++;
    let list = this.#latency.get(kind);
    if (!list) this.#latency.set(kind, (list = []));
    list.push(ms);
    const key = String(status);
    this.#statuses[key] = (this.#statuses[key] ?? 0) + 1;
  }

  recordCommand(requestType: string, status: string): void {
    this.#commandsHandled++;
    const byStatus = (this.#commands[requestType] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }

  recordDuplicate(requestType: string, commandUuid: string): void {
    this.#duplicateDeliveries++;
    this.recordError('duplicate-delivery', `${requestType} ${commandUuid} was delivered again after it had been answered`);
  }

  recordError(kind: string, message: string): void {
    this.#errorTotal++;
    this.#errors[kind] = (this.#errors[kind] ?? 0) + 1;
    if (this.#errorSamples.length < MAX_ERROR_SAMPLES) this.#errorSamples.push(`${kind}: ${message}`);
  }

  #fault(kind: string): FaultOutcome {
    return (this.#faults[kind] ??= { sent: 0, answers: {}, accepted: 0, notes: {} });
  }

  recordFault(kind: string, answer: number | string, accepted: boolean): void {
    const fault = this.#fault(kind);
    fault.sent++;
    fault.answers[String(answer)] = (fault.answers[String(answer)] ?? 0) + 1;
    if (accepted) fault.accepted++;
  }

  noteFault(kind: string, note: string): void {
    const fault = this.#fault(kind);
    fault.notes[note] = (fault.notes[note] ?? 0) + 1;
  }

  get requests(): number {
    return this.#requests;
  }

  get commandsHandled(): number {
    return this.#commandsHandled;
  }

  get errorCount(): number {
    return this.#errorTotal;
  }

  elapsedSeconds(now = performance.now()): number {
    return (now - this.startedAt) / 1000;
  }

  requestsPerSecond(now = performance.now()): number {
    const seconds = this.elapsedSeconds(now);
    return seconds > 0 ? this.#requests / seconds : 0;
  }

  summary(devices: DeviceCounts): MetricsSummary {
    const now = performance.now();
    const latency: Record<string, LatencySummary> = {};
    for (const [kind, samples] of [...this.#latency.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      latency[kind] = summarizeLatency(samples)!;
    }
    return {
      elapsedSeconds: Math.round(this.elapsedSeconds(now) * 100) / 100,
      devices: { ...devices, enrolledThisRun: this.enrolledThisRun, enrollmentFailures: this.enrollmentFailures },
      requests: { total: this.#requests, perSecond: Math.round(this.requestsPerSecond(now) * 10) / 10, byStatus: { ...this.#statuses } },
      latency,
      commands: structuredClone(this.#commands),
      commandsHandled: this.#commandsHandled,
      duplicateDeliveries: this.#duplicateDeliveries,
      errors: { total: this.#errorTotal, byKind: { ...this.#errors }, samples: [...this.#errorSamples] },
      faults: structuredClone(this.#faults),
    };
  }
}
