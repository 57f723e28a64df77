import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/platform/db/client.js';
import { Mutex, TransactionMisuseError } from '../../../src/platform/db/serialized-adapter.js';

// Real SQLite through the real Prisma client and adapter.
let dir: string;
let db: Db;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-serialized-'));
  ({ db } = await openDatabase(path.join(dir, 'test.db')));
});

afterAll(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('one connection, serialized', () => {
  it("a write made while another transaction is open survives that transaction's rollback", async () => {
    const g = gate();
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const failing = db
      .$transaction(async (tx) => {
        await tx.user.create({ data: { userId: 'rolled-back' } });
        started();
        await g.opened;
        throw new Error('abort');
      })
      .catch((err: Error) => err.message);
    await inside;
    // (Prisma queries are lazy: then() starts this one now.)
    const outside = db.user.create({ data: { userId: 'written-outside' } }).then((u) => u);
    // Time for the write to reach the connection while the transaction is still open.
    setTimeout(g.open, 50);
    expect(await failing).toBe('abort');
    await outside;
    const ids = (await db.user.findMany({ where: { userId: { in: ['rolled-back', 'written-outside'] } } })).map((u) => u.userId);
    expect(ids).toEqual(['written-outside']);
  });

  it('a read outside a transaction does not see its uncommitted rows', async () => {
    const g = gate();
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const tx = db
      .$transaction(async (t) => {
        await t.user.create({ data: { userId: 'uncommitted' } });
        started();
        await g.opened;
        throw new Error('abort');
      })
      .catch(() => undefined);
    await inside;
    const read = db.user.count({ where: { userId: 'uncommitted' } }).then((n) => n);
    setTimeout(g.open, 50);
    await tx;
    expect(await read).toBe(0);
  });

  it('a query on the plain client inside a transaction callback fails at once instead of deadlocking', async () => {
    const err = await db
      .$transaction(async (tx) => {
        await tx.user.count();
        await db.user.count();
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionMisuseError);
    // and the connection is usable afterwards
    expect(await db.user.count({ where: { userId: 'nobody' } })).toBe(0);
  });

  it("cached statements bind each call's own arguments", async () => {
    await db.user.createMany({
      data: [
        { userId: 'stmt-a', email: 'a@example.com' },
        { userId: 'stmt-b', email: 'b@example.com' },
      ],
    });
    const [a, b] = await Promise.all([
      db.user.findUnique({ where: { userId: 'stmt-a' } }),
      db.user.findUnique({ where: { userId: 'stmt-b' } }),
    ]);
    expect(a?.email).toBe('a@example.com');
    expect(b?.email).toBe('b@example.com');
    for (let i = 0; i < 3; i++)
      expect((await db.user.findUnique({ where: { userId: i % 2 ? 'stmt-a' : 'stmt-b' } }))?.email).toBe(
        i % 2 ? 'a@example.com' : 'b@example.com',
      );
  });

  it('many concurrent transactions and plain writes all land', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? db.$transaction(async (tx) => {
              await tx.user.create({ data: { userId: `conc-tx-${i}` } });
              await new Promise((r) => setTimeout(r, 1));
              await tx.user.update({ where: { userId: `conc-tx-${i}` }, data: { email: `${i}@example.com` } });
            })
          : db.user.create({ data: { userId: `conc-plain-${i}` } }),
      ),
    );
    expect(await db.user.count({ where: { userId: { startsWith: 'conc-' } } })).toBe(40);
    expect(await db.user.count({ where: { userId: { startsWith: 'conc-tx-' }, email: { not: null } } })).toBe(20);
  });
});

describe('Mutex', () => {
  it('hands the lock out in request order, one holder at a time', async () => {
    const m = new Mutex();
    const order: string[] = [];
    let holders = 0;
    await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (name) => {
        const release = await m.acquire();
        holders++;
        expect(holders).toBe(1);
        order.push(name);
        await new Promise((r) => setTimeout(r, 2));
        holders--;
        release();
      }),
    );
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });
});
