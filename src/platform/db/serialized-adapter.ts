// The better-sqlite3 driver adapter runs every query on one SQLite connection. An interactive
// transaction opens with BEGIN on that connection and stays open across awaits, so without a
// lock any other request's query issued meanwhile runs inside that transaction: it sees
// uncommitted rows, and a ROLLBACK silently undoes its writes (a lost command result, say).
// This decorator makes the connection exclusive: a transaction holds a FIFO lock from BEGIN to
// COMMIT/ROLLBACK, and queries outside transactions wait for it.
//
// It also caches prepared statements by SQL text: the adapter prepares every query afresh,
// which cost about a tenth of the server's time under MDM load.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils';

/** A FIFO mutex: `acquire` resolves with the release function once every earlier holder released. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

/**
 * The context of a `$transaction` call (see createDb): 'open' once its transaction started, so a
 * query on the plain client from inside the callback, which would wait forever for the lock its
 * own transaction holds, fails at once instead. `wrote`: a model write ran in it (createDb then
 * waits for the WAL sync after the commit).
 */
export const transactionContext = new AsyncLocalStorage<TransactionContext>();

export interface TransactionContext {
  state: 'pending' | 'open' | 'done';
  wrote?: boolean;
  /** The connection the transaction runs on (for directStatements), once the adapter connected. */
  connection?: () => DirectConnection | undefined;
}

/** What directStatements and directRead need of a better-sqlite3 connection: its (caching) prepare. */
export interface DirectConnection {
  prepare(sql: string): { bind(args: unknown[]): { run(): unknown; rows(): Array<Record<string, unknown>> } };
}

/** The serialized adapter of each client made by createDb (directRead takes its lock). */
const adapters = new WeakMap<object, { current(): SerializedAdapter | undefined }>();

/** Registers `client` (createDb's Prisma client) as reading through `factory`'s connection. */
export function registerDirectReads(client: object, factory: ReturnType<typeof serialized>): void {
  adapters.set(client, { current: () => factory.adapter() });
}

/**
 * Rows of one query run on the SQLite connection itself, without Prisma's raw-query path (which
 * costs about 0.15 ms for a one-row read, more than SQLite's work): through the plain client it
 * takes the connection's lock like any query; through a transaction client it runs inside that
 * transaction (which holds the lock). Rows are as better-sqlite3 gives them: column names as
 * keys, INTEGER as BigInt (the adapter reads with safe integers), dates as the stored text. Null
 * when no connection is known (the caller then reads through Prisma).
 */
export async function directRead(client: object, sql: string, values: unknown[]): Promise<Array<Record<string, unknown>> | null> {
  const context = transactionContext.getStore();
  const registered = adapters.get(client);
  if (registered) {
    guard(false);
    const adapter = registered.current();
    if (!adapter?.connection) return null;
    const connection = adapter.connection;
    return adapter.exclusive(async () => connection.prepare(sql).bind(values).rows());
  }
  const connection = context?.state === 'open' ? context.connection?.() : undefined;
  return connection ? connection.prepare(sql).bind(values).rows() : null;
}

/**
 * The first row of a one-row query read with directRead and mapped by `fromRow`, or, when the
 * connection cannot be read directly, what `viaPrisma` reads instead; null when there is no row.
 */
export async function directFirst<T>(
  client: object,
  sql: string,
  values: unknown[],
  fromRow: (row: Record<string, unknown>) => T,
  viaPrisma: () => Promise<T | null>,
): Promise<T | null> {
  const rows = await directRead(client, sql, values);
  if (!rows) return viaPrisma();
  return rows[0] ? fromRow(rows[0]) : null;
}

/**
 * Statements run on the SQLite connection itself, inside the current `$transaction` callback's
 * transaction, without Prisma: for bulk writes, where Prisma's cost per bound parameter (about
 * 5 µs) is most of the work. Null outside an open transaction — there the connection's lock is
 * not held, and a statement would run inside another request's transaction. Values are bound as
 * given: convert dates and booleans with `sqliteValue` (as the Prisma adapter stores them).
 * Statements run here count as model writes for durability: the commit waits for the WAL sync.
 * `run` returns the statement's last inserted rowid (what SQLite reports after an INSERT).
 */
export function directStatements(): { prepare(sql: string): { run(values: unknown[]): number } } | null {
  const context = transactionContext.getStore();
  const connection = context?.state === 'open' ? context.connection?.() : undefined;
  if (!context || !connection) return null;
  return {
    prepare(sql) {
      const statement = connection.prepare(sql);
      return {
        run(values) {
          context.wrote = true;
          return Number((statement.bind(values).run() as { lastInsertRowid: number | bigint }).lastInsertRowid);
        },
      };
    },
  };
}

/** A value as the Prisma better-sqlite3 adapter binds it (its default timestamp format). */
export function sqliteValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace('Z', '+00:00');
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

export class TransactionMisuseError extends Error {}

function guard(starting: boolean): void {
  const context = transactionContext.getStore();
  if (context?.state === 'open') {
    throw new TransactionMisuseError('a query on the plain client was issued inside a $transaction callback: use the transaction client');
  }
  if (starting && context?.state === 'pending') context.state = 'open';
}

interface CachedStatement {
  reader: boolean;
  run(...args: unknown[]): unknown;
  columns(): unknown[];
  raw(on?: boolean): { all(...args: unknown[]): unknown[] };
}

const columnsOf = new WeakMap<CachedStatement, unknown[]>();

/** Wraps a better-sqlite3 Database's prepare() so each SQL text is prepared once; `bind` is per call. */
function cacheStatements(client: { prepare(sql: string): CachedStatement }, limit = 500): void {
  const prepare = client.prepare.bind(client);
  const cache = new Map<string, CachedStatement>();
  client.prepare = ((sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = prepare(sql);
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
    }
    const s = stmt;
    let bound: unknown[] = [];
    // A statement's result columns are fixed once it is prepared (migrations run before any
    // request); asking SQLite for them on every query was about 4 % of the server's CPU.
    let columns = columnsOf.get(s);
    const view = {
      reader: s.reader,
      bind(args: unknown[]) {
        bound = args;
        return view;
      },
      run: () => s.run(...bound),
      columns: () => {
        if (!columns) columnsOf.set(s, (columns = s.columns()));
        return columns;
      },
      raw: () => {
        const r = s.raw(true);
        return { all: () => r.all(...bound) };
      },
      // Rows as objects keyed by column name (directRead); the adapter's path above sets raw mode back.
      rows: () => s.raw(false).all(...bound),
    };
    return view as unknown as CachedStatement;
  }) as typeof client.prepare;
}

class SerializedAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter['provider'];
  readonly adapterName: string;
  private readonly lock = new Mutex();
  /** The better-sqlite3 connection, with statements cached (directStatements uses it). */
  readonly connection: DirectConnection | undefined;

  constructor(private readonly inner: SqlDriverAdapter) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
    if (inner.getConnectionInfo) this.getConnectionInfo = () => inner.getConnectionInfo!();
    const client = (inner as unknown as { client?: { prepare?: unknown } }).client;
    if (client && typeof client.prepare === 'function') {
      cacheStatements(client as never);
      this.connection = client as unknown as DirectConnection;
    }
  }

  async exclusive<T>(run: () => Promise<T>): Promise<T> {
    guard(false);
    const release = await this.lock.acquire();
    try {
      return await run();
    } finally {
      release();
    }
  }

  queryRaw(...a: Parameters<SqlDriverAdapter['queryRaw']>) {
    return this.exclusive(() => this.inner.queryRaw(...a));
  }
  executeRaw(...a: Parameters<SqlDriverAdapter['executeRaw']>) {
    return this.exclusive(() => this.inner.executeRaw(...a));
  }
  executeScript(script: string) {
    return this.exclusive(() => this.inner.executeScript(script));
  }
  readonly getConnectionInfo?: SqlDriverAdapter['getConnectionInfo'];
  dispose() {
    return this.inner.dispose();
  }

  async startTransaction(...a: Parameters<SqlDriverAdapter['startTransaction']>): Promise<Transaction> {
    guard(true);
    const release = await this.lock.acquire();
    let tx: Transaction;
    try {
      tx = await this.inner.startTransaction(...a);
    } catch (err) {
      release();
      throw err;
    }
    let released = false;
    const once = () => {
      if (!released) {
        released = true;
        release();
      }
    };
    // COMMIT/ROLLBACK are sent through the transaction's own queryable; these then end it.
    return Object.assign(Object.create(tx) as Transaction, {
      commit: async () => {
        try {
          await tx.commit();
        } finally {
          once();
        }
      },
      rollback: async () => {
        try {
          await tx.rollback();
        } finally {
          once();
        }
      },
    });
  }
}

/** A driver adapter factory whose connections are serialized as described above; `connection()` is the last one made. */
export function serialized(
  factory: SqlDriverAdapterFactory,
): SqlDriverAdapterFactory & { connection(): DirectConnection | undefined; adapter(): SerializedAdapter | undefined } {
  let last: SerializedAdapter | undefined;
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => (last = new SerializedAdapter(await factory.connect())),
    connection: () => last?.connection,
    adapter: () => last,
  };
}
