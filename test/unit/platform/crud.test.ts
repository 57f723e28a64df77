// The CRUD helper through one resource definition over an in-memory store: widgets, named
// uniquely, each naming a color (a reference checked on write), named in turn by gadgets (so a
// used widget cannot be deleted and a rename carries to its gadgets). Transactions copy the state
// and keep the copy only when the callback succeeds, as a database would.
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/platform/auth/actor.js';
import { CrudResource, type CrudAuditEntry, type CrudDefinition, type CrudStore } from '../../../src/platform/db/crud.js';
import { DomainError } from '../../../src/platform/errors/index.js';
import { apiErrorFrom, type ApiError } from '../../../src/platform/http/errors.js';

interface Widget {
  id: number;
  name: string;
  size: number;
  color: string | null;
  frozen: boolean;
}
interface State {
  widgets: Widget[];
  gadgets: Array<{ name: string; widget: string }>;
  colors: string[];
  audit: CrudAuditEntry[];
  nextId: number;
}

class MemoryTx {
  constructor(public state: State) {}
}

class MemoryDb extends MemoryTx {
  transactions = 0;
  async $transaction<T>(fn: (tx: MemoryTx) => Promise<T>): Promise<T> {
    this.transactions++;
    const copy = new MemoryTx(structuredClone(this.state));
    const result = await fn(copy);
    this.state = copy.state;
    return result;
  }
}

type WidgetData = Omit<Widget, 'id'>;
interface WidgetInput {
  name: string;
  size: number;
  color?: string;
}

/** Set to make the next row update fail (after the rename was carried). */
let failNextUpdate = false;

const widgetStore: CrudStore<MemoryTx, Widget, WidgetData, Partial<WidgetData>> = {
  findById: async (tx, id) => tx.state.widgets.find((w) => w.id === id) ?? null,
  findByName: async (tx, name) => tx.state.widgets.find((w) => w.name === name) ?? null,
  list: async (tx, page, orderBy) => {
    const [field, order] = Object.entries(orderBy)[0] as ['name' | 'size' | 'id', 'asc' | 'desc'];
    const sign = order === 'asc' ? 1 : -1;
    const sorted = [...tx.state.widgets].sort((a, b) => (a[field] < b[field] ? -sign : a[field] > b[field] ? sign : a.id - b.id));
    return sorted.slice(page.offset, page.offset + page.limit);
  },
  count: async (tx) => tx.state.widgets.length,
  create: async (tx, data) => {
    const row = { id: tx.state.nextId++, ...data };
    tx.state.widgets.push(row);
    return row;
  },
  update: async (tx, id, data) => {
    if (failNextUpdate) {
      failNextUpdate = false;
      throw new Error('disk full');
    }
    const row = tx.state.widgets.find((w) => w.id === id)!;
    Object.assign(row, data);
    return row;
  },
  remove: async (tx, id) => {
    tx.state.widgets = tx.state.widgets.filter((w) => w.id !== id);
  },
};

const gadgetsOf = (state: State, widget: string) => state.gadgets.filter((g) => g.widget === widget).map((g) => g.name);

async function assertColorExists(tx: MemoryTx, color: string | undefined): Promise<void> {
  if (color !== undefined && !tx.state.colors.includes(color)) throw DomainError.validation('color', `color '${color}' does not exist`);
}

function checkSize(size: number | undefined): void {
  if (size !== undefined && size < 0) throw DomainError.validation('size', 'must not be negative');
}

const widgets: CrudDefinition<
  MemoryTx,
  Widget,
  Widget & { gadgets: string[] },
  WidgetInput,
  Partial<WidgetInput>,
  WidgetData,
  Partial<WidgetData>
> = {
  noun: 'Widget',
  auditType: 'widget',
  store: widgetStore,
  duplicate: { code: 'resource.duplicate', message: (name) => `A widget named ${name} already exists` },
  inUse: {
    code: 'resource.referenced',
    check: async (tx, row) => {
      const users = gadgetsOf(tx.state, row.name);
      return users.length ? `Widget ${row.name} is used by gadgets ${users.join(', ')}` : null;
    },
  },
  viewer: async (tx) => {
    const gadgets = structuredClone(tx.state.gadgets);
    return (row) => ({ ...row, gadgets: gadgets.filter((g) => g.widget === row.name).map((g) => g.name) });
  },
  draftCreate: (input) => {
    checkSize(input.size);
    return {
      data: { name: input.name, size: input.size, color: input.color ?? null, frozen: false },
      audit: { name: input.name, size: input.size },
      checkReferences: (tx) => assertColorExists(tx, input.color),
    };
  },
  draftUpdate: (input) => {
    checkSize(input.size);
    return async (_tx, existing) => {
      if (existing.frozen) throw DomainError.validation('frozen', `widget ${existing.name} is frozen`);
      return {
        data: { ...input },
        audit: { ...input },
        checkReferences: (tx) => assertColorExists(tx, input.color),
        carryRename: async (tx, from, to) => {
          const moved = gadgetsOf(tx.state, from);
          for (const g of tx.state.gadgets) if (g.widget === from) g.widget = to;
          return moved.length ? { gadgetsMoved: moved } : {};
        },
      };
    };
  },
};

const admin: Actor = { kind: 'admin', username: 'alice', role: 'admin' };
const viewer: Actor = { kind: 'admin', username: 'victor', role: 'viewer' };
const anonymous: Actor = { kind: 'anonymous', username: 'anonymous', role: null };

function setup() {
  const db = new MemoryDb({ widgets: [], gadgets: [], colors: ['red', 'blue'], audit: [], nextId: 1 });
  const resource = new CrudResource(
    db,
    async (tx: MemoryTx, entry: CrudAuditEntry) => {
      tx.state.audit.push(entry);
    },
    widgets,
  );
  return { db, resource };
}

/** The domain error a call fails with (and only a DomainError), as the admin API renders it. */
async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return apiErrorFrom(err as DomainError);
}

describe('CrudResource: create', () => {
  it('writes the row and its audit entry in one transaction and answers with the view', async () => {
    const { db, resource } = setup();
    db.state.gadgets.push({ name: 'g0', widget: 'w1' });
    const view = await resource.create(admin, { name: 'w1', size: 3, color: 'red' });
    expect(view).toEqual({ id: 1, name: 'w1', size: 3, color: 'red', frozen: false, gadgets: ['g0'] });
    expect(db.transactions).toBe(1);
    expect(db.state.audit).toEqual([
      { actor: 'alice', action: 'create', objectType: 'widget', objectId: 1, details: { name: 'w1', size: 3 } },
    ]);
  });

  it('answers 409 with the duplicate key for a taken name, and writes nothing', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    const err = await apiError(resource.create(admin, { name: 'w1', size: 2, color: 'nope' }));
    expect(err).toMatchObject({
      status: 409,
      messageKey: 'com.mobileiron.vsp.messages.duplicate',
      message: 'A widget named w1 already exists',
    });
    expect(db.state.widgets).toHaveLength(1);
    expect(db.state.audit).toHaveLength(1);
  });

  it('answers 400 for a missing reference, and writes nothing', async () => {
    const { db, resource } = setup();
    const err = await apiError(resource.create(admin, { name: 'w1', size: 1, color: 'green' }));
    expect(err).toMatchObject({ status: 400, extra: { field: 'color' } });
    expect(db.state.widgets).toEqual([]);
    expect(db.state.audit).toEqual([]);
  });

  it('checks the input alone before opening a transaction', async () => {
    const { db, resource } = setup();
    const err = await apiError(resource.create(admin, { name: 'w1', size: -1 }));
    expect(err).toMatchObject({ status: 400, extra: { field: 'size' } });
    expect(db.transactions).toBe(0);
  });
});

describe('CrudResource: read', () => {
  it('lists a page in the asked order with the total, and gets one by id', async () => {
    const { resource } = setup();
    for (const [name, size] of [
      ['b', 2],
      ['c', 1],
      ['a', 3],
    ] as const)
      await resource.create(admin, { name, size });
    const page = await resource.list(viewer, { limit: 2, offset: 0 }, 'name', 'desc');
    expect(page.total).toBe(3);
    expect(page.results.map((w) => w.name)).toEqual(['c', 'b']);
    const next = await resource.list(viewer, { limit: 2, offset: 2 }, 'size', 'asc');
    expect(next.results.map((w) => w.name)).toEqual(['a']);
    expect(await resource.get(viewer, 2)).toMatchObject({ id: 2, name: 'c', size: 1 });
  });

  it('answers 404 naming the resource for an unknown id, on get, update and delete', async () => {
    const { resource } = setup();
    for (const call of [resource.get(admin, 7), resource.update(admin, 7, { size: 1 }), resource.remove(admin, 7)]) {
      const err = await apiError(call);
      expect(err).toMatchObject({ status: 404, messageKey: 'com.mobileiron.vsp.messages.http.404', message: 'Widget 7 not found' });
    }
  });

  it('lets a viewer read but not write, and nobody anonymous', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    expect((await resource.list(viewer, { limit: 10, offset: 0 }, 'id', 'asc')).total).toBe(1);
    for (const call of [
      resource.create(viewer, { name: 'w2', size: 1 }),
      resource.update(viewer, 1, { size: 2 }),
      resource.remove(viewer, 1),
    ])
      expect(await apiError(call)).toMatchObject({ status: 403 });
    expect(await apiError(resource.get(anonymous, 1))).toMatchObject({ status: 403 });
    expect(db.state.widgets).toEqual([expect.objectContaining({ name: 'w1', size: 1 })]);
  });
});

describe('CrudResource: update', () => {
  it('carries a rename to the rows that name it and adds what it carried to the audit details', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    db.state.gadgets.push({ name: 'g1', widget: 'w1' }, { name: 'g2', widget: 'w1' });
    const view = await resource.update(admin, 1, { name: 'w9', color: 'blue' });
    expect(view).toMatchObject({ name: 'w9', color: 'blue', gadgets: ['g1', 'g2'] });
    expect(db.state.gadgets.map((g) => g.widget)).toEqual(['w9', 'w9']);
    expect(db.state.audit.at(-1)).toEqual({
      actor: 'alice',
      action: 'update',
      objectType: 'widget',
      objectId: 1,
      details: { name: 'w9', color: 'blue', gadgetsMoved: ['g1', 'g2'] },
    });
  });

  it('does not treat keeping its own name as a rename or a conflict', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    db.state.gadgets.push({ name: 'g1', widget: 'w1' });
    await resource.update(admin, 1, { name: 'w1', size: 5 });
    expect(db.state.audit.at(-1)!.details).toEqual({ name: 'w1', size: 5 });
  });

  it('answers 409 for a name another row has, before checking references', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    await resource.create(admin, { name: 'w2', size: 1 });
    const err = await apiError(resource.update(admin, 2, { name: 'w1', color: 'green' }));
    expect(err).toMatchObject({
      status: 409,
      messageKey: 'com.mobileiron.vsp.messages.duplicate',
      message: 'A widget named w1 already exists',
    });
    expect(db.state.widgets.map((w) => w.name)).toEqual(['w1', 'w2']);
  });

  it('runs the checks that need the stored row before the name check', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    await resource.create(admin, { name: 'w2', size: 1 });
    db.state.widgets[1]!.frozen = true;
    const err = await apiError(resource.update(admin, 2, { name: 'w1' }));
    expect(err).toMatchObject({ status: 400, extra: { field: 'frozen' } });
  });

  it('checks the input alone before looking the row up', async () => {
    const { db, resource } = setup();
    const err = await apiError(resource.update(admin, 7, { size: -1 }));
    expect(err).toMatchObject({ status: 400, extra: { field: 'size' } });
    expect(db.transactions).toBe(0);
  });

  it('keeps nothing of a failed update: the carried rename and the audit entry roll back with it', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    db.state.gadgets.push({ name: 'g1', widget: 'w1' });
    failNextUpdate = true;
    await expect(resource.update(admin, 1, { name: 'w9' })).rejects.toThrow('disk full');
    expect(db.state.gadgets).toEqual([{ name: 'g1', widget: 'w1' }]);
    expect(db.state.widgets[0]!.name).toBe('w1');
    expect(db.state.audit.map((a) => a.action)).toEqual(['create']);
  });
});

describe('CrudResource: delete', () => {
  it('answers 409 with the in-use key while another row names it, then deletes once none does', async () => {
    const { db, resource } = setup();
    await resource.create(admin, { name: 'w1', size: 1 });
    db.state.gadgets.push({ name: 'g1', widget: 'w1' });
    const err = await apiError(resource.remove(admin, 1));
    expect(err).toMatchObject({
      status: 409,
      messageKey: 'com.mobileiron.vsp.messages.referenced',
      message: 'Widget w1 is used by gadgets g1',
    });
    expect(db.state.widgets).toHaveLength(1);

    db.state.gadgets = [];
    await resource.remove(admin, 1);
    expect(db.state.widgets).toEqual([]);
    expect(db.state.audit.at(-1)).toEqual({ actor: 'alice', action: 'delete', objectType: 'widget', objectId: 1, details: { name: 'w1' } });
    expect(await apiError(resource.get(admin, 1))).toMatchObject({ status: 404 });
  });
});
