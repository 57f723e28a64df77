// One admin resource kept in one table and named uniquely: list, get, create, update and delete,
// each authorized, each write in one transaction with its audit entry, with the same answers for
// every resource (404 for an unknown id, 409 for a taken name or a row still in use). Its
// CrudDefinition says only what differs: its store, its view, its checks and what its audit
// entries carry. Which error wins when several apply is fixed here: the input's own checks
// (before the transaction), then the id (404), the checks that need the stored row, the name
// (409), and the rows it names (400).
import { requireRead, requireWrite, type Actor } from '../auth/actor.js';
import { DomainError, type ErrorCode } from '../errors/index.js';

/** A row the helper can find by id and by its unique name. */
export interface NamedRow {
  id: number;
  name: string;
}

export interface Page {
  limit: number;
  offset: number;
}

/** The table's calls, each given the client or transaction to run on. */
export interface CrudStore<Tx, Row extends NamedRow, CreateData, UpdateData> {
  findById(tx: Tx, id: number): Promise<Row | null>;
  findByName(tx: Tx, name: string): Promise<Row | null>;
  list(tx: Tx, page: Page, orderBy: Record<string, 'asc' | 'desc'>): Promise<Row[]>;
  count(tx: Tx): Promise<number>;
  create(tx: Tx, data: CreateData): Promise<Row>;
  update(tx: Tx, id: number, data: UpdateData): Promise<Row>;
  remove(tx: Tx, id: number): Promise<unknown>;
}

/** The database as the helper uses it: reads on the client itself, writes in a transaction. */
export type TransactionalDb<Tx> = Tx & { $transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> };

/** What the audit log records of one write (the capability that keeps the log writes it). */
export interface CrudAuditEntry {
  actor: string;
  action: 'create' | 'update' | 'delete';
  objectType: string;
  objectId: number;
  details: Record<string, unknown>;
}
export type AuditWriter<Tx> = (tx: Tx, entry: CrudAuditEntry) => Promise<unknown>;

/** One write, as the resource prepares it from the input. */
export interface Draft<Tx, Data> {
  /** The columns to write. */
  data: Data;
  /** The audit entry's details. */
  audit: Record<string, unknown>;
  /** Checks of the rows this one names (a missing one is a 400); run after the name is known to be free. */
  checkReferences?: (tx: Tx) => Promise<void>;
}

export interface UpdateDraft<Tx, Data> extends Draft<Tx, Data> {
  /** Carries a rename to the rows that name this one, before the row itself changes; what it returns joins the audit details. */
  carryRename?: (tx: Tx, from: string, to: string) => Promise<Record<string, unknown>>;
}

export interface CrudDefinition<Tx, Row extends NamedRow, View, CreateInput, UpdateInput, CreateData, UpdateData> {
  /** How a 404 names the resource: `${noun} ${id} not found`. */
  noun: string;
  /** The audit log's objectType. */
  auditType: string;
  store: CrudStore<Tx, Row, CreateData, UpdateData>;
  /** The 409 for a name already taken. */
  duplicate: { code: ErrorCode; message: (name: string) => string };
  /** Rows other rows still name cannot be deleted: `check` says by whom (the 409's message), or null when none does. */
  inUse?: { code: ErrorCode; check: (tx: Tx, row: Row) => Promise<string | null> };
  /** Builds the views of rows; reads once what the views need besides the row (who uses it). */
  viewer(tx: Tx): Promise<(row: Row) => View>;
  /** Checks of the input alone (before the transaction) and the write it makes. */
  draftCreate(input: CreateInput): Draft<Tx, CreateData>;
  /**
   * Checks of the input alone (before the transaction), then, given the stored row, the write:
   * checks that need the row run there, before the new name is checked.
   */
  draftUpdate(input: UpdateInput): (tx: Tx, existing: Row) => Promise<UpdateDraft<Tx, UpdateData>>;
}

export class CrudResource<
  Tx,
  Row extends NamedRow,
  View,
  CreateInput extends { name: string },
  UpdateInput extends { name?: string },
  CreateData,
  UpdateData,
> {
  constructor(
    private readonly db: TransactionalDb<Tx>,
    private readonly audit: AuditWriter<Tx>,
    private readonly definition: CrudDefinition<Tx, Row, View, CreateInput, UpdateInput, CreateData, UpdateData>,
  ) {}

  async list(actor: Actor, page: Page, sortField: string, order: 'asc' | 'desc'): Promise<{ total: number; results: View[] }> {
    requireRead(actor);
    const { store, viewer } = this.definition;
    const [rows, total, view] = [
      await store.list(this.db, page, { [sortField]: order }),
      await store.count(this.db),
      await viewer(this.db),
    ];
    return { total, results: rows.map(view) };
  }

  async get(actor: Actor, id: number): Promise<View> {
    requireRead(actor);
    const row = await this.find(this.db, id);
    return (await this.definition.viewer(this.db))(row);
  }

  /** The stored row, or the resource's 404. */
  async find(tx: Tx, id: number): Promise<Row> {
    const row = await this.definition.store.findById(tx, id);
    if (!row) throw DomainError.notFound(this.definition.noun, id);
    return row;
  }

  async create(actor: Actor, input: CreateInput): Promise<View> {
    requireWrite(actor);
    const { store, auditType } = this.definition;
    const draft = this.definition.draftCreate(input);
    const row = await this.db.$transaction(async (tx) => {
      await this.assertNameFree(tx, input.name);
      await draft.checkReferences?.(tx);
      const created = await store.create(tx, draft.data);
      await this.audit(tx, { actor: actor.username, action: 'create', objectType: auditType, objectId: created.id, details: draft.audit });
      return created;
    });
    return (await this.definition.viewer(this.db))(row);
  }

  async update(actor: Actor, id: number, input: UpdateInput): Promise<View> {
    requireWrite(actor);
    const { store, auditType } = this.definition;
    const draftFor = this.definition.draftUpdate(input);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await this.find(tx, id);
      const draft = await draftFor(tx, existing);
      const newName = input.name !== undefined && input.name !== existing.name ? input.name : undefined;
      if (newName !== undefined) await this.assertNameFree(tx, newName);
      await draft.checkReferences?.(tx);
      const carried = newName !== undefined && draft.carryRename ? await draft.carryRename(tx, existing.name, newName) : {};
      const updated = await store.update(tx, id, draft.data);
      await this.audit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: auditType,
        objectId: id,
        details: { ...draft.audit, ...carried },
      });
      return updated;
    });
    return (await this.definition.viewer(this.db))(row);
  }

  async remove(actor: Actor, id: number): Promise<void> {
    requireWrite(actor);
    const { store, auditType, inUse } = this.definition;
    await this.db.$transaction(async (tx) => {
      const existing = await this.find(tx, id);
      if (inUse) {
        const usedBy = await inUse.check(tx, existing);
        if (usedBy !== null) throw new DomainError(inUse.code, usedBy);
      }
      await store.remove(tx, id);
      await this.audit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: auditType,
        objectId: id,
        details: { name: existing.name },
      });
    });
  }

  private async assertNameFree(tx: Tx, name: string): Promise<void> {
    if (await this.definition.store.findByName(tx, name)) {
      const { code, message } = this.definition.duplicate;
      throw new DomainError(code, message(name));
    }
  }
}
