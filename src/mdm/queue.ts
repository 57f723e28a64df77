// The MDM command queue, with an in-memory index of the devices that may have a deliverable
// command. Most device polls find nothing to do; for a device known to have nothing pending the
// poll answers without touching the database. The index is a superset: a device is added
// before its command's transaction commits, and removed only when a poll found its queue empty
// and no command was created for it meanwhile. Every command is created through this class;
// the server process owns the queue.
import type { Db, DbTx } from '../platform/db/client.js';
import { groupCommitFor } from '../platform/db/group-commit.js';
import type { CommandRecords, CommandRow, NewCommand } from './ports.js';

export class CommandQueue {
  /** Device id → the creation stamp of its latest command, for devices that may have one pending. */
  private readonly maybePending = new Map<number, number>();
  private stamp = 0;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly commands: CommandRecords,
  ) {}

  /** The index starts from the database: commands queued before a restart are still there. */
  private load(): Promise<void> {
    this.loaded ??= this.commands
      .devicesWithPending(this.db)
      .then((deviceRefs) => {
        for (const deviceRef of deviceRefs) if (!this.maybePending.has(deviceRef)) this.maybePending.set(deviceRef, ++this.stamp);
      })
      .catch((err: unknown) => {
        this.loaded = undefined;
        throw err;
      });
    return this.loaded;
  }

  /** Creates a command in the caller's transaction. */
  create(tx: DbTx, data: NewCommand): Promise<CommandRow> {
    this.maybePending.set(data.deviceRef, ++this.stamp);
    return this.commands.create(tx, data);
  }

  /**
   * The device's next command, marked Sent. On an Idle poll (`requeue`), commands sent but never
   * answered and NotNow ones become deliverable again first; an Idle poll that finds nothing
   * clears the device from the index.
   */
  async next(deviceId: number, options: { requeue: boolean }): Promise<CommandRow | null> {
    await this.load();
    if (!this.maybePending.has(deviceId)) return null;
    // Marking it Sent commits with the results of the moment (group commit), not in a transaction of its own.
    return groupCommitFor(this.db).run((tx) => this.nextIn(tx, deviceId, options));
  }

  /** Resolves once the index is loaded: nextIn, which runs inside a transaction, needs it. */
  ready(): Promise<void> {
    return this.load();
  }

  /** next() inside the caller's transaction (after ready()). */
  async nextIn(tx: DbTx, deviceId: number, options: { requeue: boolean }): Promise<CommandRow | null> {
    if (!this.loaded) throw new Error('CommandQueue.nextIn before ready()');
    const stamp = this.maybePending.get(deviceId);
    if (stamp === undefined) return null;
    if (options.requeue) await this.commands.requeue(tx, deviceId);
    const next = await this.commands.nextQueued(tx, deviceId);
    if (next) await this.commands.markSent(tx, next.id);
    // The caller's transaction is open, so no command was created for the device meanwhile
    // unless the stamp moved (a create in a transaction queued behind this one).
    else if (options.requeue && this.maybePending.get(deviceId) === stamp) this.maybePending.delete(deviceId);
    return next;
  }

  /** Whether the device may have a pending command (for tests and diagnostics). */
  mayHavePending(deviceId: number): boolean {
    return this.maybePending.has(deviceId);
  }
}
