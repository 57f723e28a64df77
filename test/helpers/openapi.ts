// Reads the server's own OpenAPI document and checks real answers against it: the status must
// be documented for the operation, the media type too, and a JSON body must match the schema.
// Shared by the conformance test and the fuzz suite.
import { createHash } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Db } from '../../src/platform/db/client.js';

export type Json = any;

export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path, e.g. /api/v2/admins/{id}. */
  path: string;
  spec: Json;
  key: string;
}

export function operationsOf(doc: Json): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      if (item[method]) ops.push({ method, path, spec: item[method], key: `${method.toUpperCase()} ${path}` });
    }
  }
  return ops;
}

/** Fills an OpenAPI path template: /api/v2/admins/{id} with {id: 3} → /api/v2/admins/3. */
export function fillPath(path: string, params: Record<string, string | number>): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    if (!(name in params)) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(String(params[name]));
  });
}

/** Component references inlined, so one operation's schema compiles on its own. */
export function resolveRefs(schema: Json, doc: Json, depth = 0): Json {
  if (depth > 20) throw new Error('schema references nest too deep');
  if (Array.isArray(schema)) return schema.map((s) => resolveRefs(s, doc, depth));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    if (!name || !doc.components?.schemas?.[name]) throw new Error(`unresolvable $ref ${schema.$ref}`);
    return resolveRefs(doc.components.schemas[name], doc, depth + 1);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolveRefs(v, doc, depth)]));
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export const mediaTypeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

export class DocumentChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  private readonly validators = new Map<string, ValidateFunction>();
  readonly operations: Operation[];

  constructor(readonly doc: Json) {
    this.operations = operationsOf(doc);
  }

  operation(method: string, path: string): Operation {
    const op = this.operations.find((o) => o.method === method && o.path === path);
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return op;
  }

  /** What is wrong with this answer by the document (empty: it conforms). */
  check(op: Operation, answer: Answer): string[] {
    const documented = op.spec.responses?.[String(answer.status)];
    if (!documented)
      return [`${op.key}: status ${answer.status} is not documented (documented: ${Object.keys(op.spec.responses ?? {}).join(', ')})`];
    const contentType = answer.headers['content-type'];
    const mediaType = mediaTypeOf(typeof contentType === 'string' ? contentType : undefined);
    const content: Record<string, Json> | undefined = documented.content;
    if (!content) {
      return answer.body.length > 0 ? [`${op.key}: ${answer.status} is documented without a body but has ${answer.body.length} bytes`] : [];
    }
    if (!mediaType) return answer.body.length > 0 ? [`${op.key}: ${answer.status} has a body but no Content-Type`] : [];
    if (!content[mediaType]) return [`${op.key}: ${answer.status} answered ${mediaType}, documented: ${Object.keys(content).join(', ')}`];
    if (mediaType !== 'application/json') return [];
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return [`${op.key}: ${answer.status} says application/json but the body is not JSON`];
    }
    const validate = this.validator(op, answer.status, content[mediaType].schema ?? {});
    if (validate(body)) return [];
    const err = validate.errors?.[0];
    return [
      `${op.key}: ${answer.status} body does not match the schema at ${err?.instancePath || '/'}: ${err?.message} (${JSON.stringify(body).slice(0, 200)})`,
    ];
  }

  private validator(op: Operation, status: number, schema: Json): ValidateFunction {
    const key = `${op.key} ${status}`;
    let v = this.validators.get(key);
    if (!v) {
      v = this.ajv.compile(resolveRefs(schema, this.doc));
      this.validators.set(key, v);
    }
    return v;
  }
}

const tableColumns = new WeakMap<object, Array<{ table: string; columns: string[] }>>();
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Row counts and a hash of every table's content: equal before and after means nothing was
 * written. One query through the app's own connection (so it sees what the app committed);
 * quote() renders every value, blobs included, as text.
 */
export async function dataFingerprint(db: Db): Promise<string> {
  let tables = tableColumns.get(db);
  if (!tables) {
    const names = await db.$queryRawUnsafe<{ name: string }[]>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_prisma_%' ORDER BY name",
    );
    tables = [];
    for (const { name } of names) {
      const cols = await db.$queryRawUnsafe<{ name: string }[]>(`SELECT name FROM pragma_table_info(${`'${name.replace(/'/g, "''")}'`})`);
      tables.push({ table: name, columns: cols.map((c) => c.name) });
    }
    tableColumns.set(db, tables);
  }
  const parts = tables.map(
    ({ table, columns }, i) =>
      `(SELECT count(*) || ':' || coalesce(group_concat(r, char(10)), '') FROM (SELECT ${columns.map((c) => `quote(${ident(c)})`).join(" || ',' || ")} AS r FROM ${ident(table)} ORDER BY rowid)) AS t${i}`,
  );
  const [row] = await db.$queryRawUnsafe<Record<string, string>[]>(`SELECT ${parts.join(', ')}`);
  const hash = createHash('sha256');
  const counts: string[] = [];
  tables.forEach(({ table }, i) => {
    const value = String(row![`t${i}`]);
    counts.push(`${table}=${value.slice(0, value.indexOf(':'))}`);
    hash.update(`${table}\0${value}\0`);
  });
  return `${counts.join(' ')} ${hash.digest('hex')}`;
}
