// Certificate enrollment settings (Core's identity certificate / "Certificate Enrollment"
// setting): how a device gets the certificate a VPN configuration authenticates with. SCEP:
// the profile carries a com.apple.security.scep payload and our CA issues over /scep; LOCAL:
// the server makes key and certificate and the profile carries them as PKCS#12.
import { recordAudit } from '../audit/index.js';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import { validateIdentityTemplates, type IdentityKeyUsage, type IdentityMethod } from '../lib/profiles/identity.js';
import type { ExtendedKeyUsageName, SanType } from '../lib/pki/x509.js';
import { enrollmentStore } from './store.js';

export interface EnrollmentInput {
  name: string;
  description?: string;
  method: IdentityMethod;
  keyType?: 'RSA';
  keySize?: 2048 | 4096;
  subject: string;
  subjectAltNames?: Array<{ type: SanType; value: string }>;
  validityDays?: number;
  renewalWindowDays?: number;
  keyUsage?: IdentityKeyUsage[];
  extendedKeyUsage?: ExtendedKeyUsageName[];
}

/** For the VPN capability: whether a setting exists (in the caller's transaction). */
export async function certificateEnrollmentExists(tx: DbTx, id: number): Promise<boolean> {
  return (await enrollmentStore.findById(tx, id)) !== null;
}

export type EnrollmentRow = NonNullable<Awaited<ReturnType<typeof enrollmentStore.findById>>>;

/** The stored row with its JSON lists parsed: what issuance and the profile builders read. */
export function enrollmentSpec(row: EnrollmentRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    method: row.method as IdentityMethod,
    keyType: row.keyType as 'RSA',
    keySize: row.keySize as 2048 | 4096,
    subject: row.subject,
    subjectAltNames: JSON.parse(row.subjectAltNames) as Array<{ type: SanType; value: string }>,
    validityDays: row.validityDays,
    renewalWindowDays: row.renewalWindowDays,
    keyUsage: JSON.parse(row.keyUsage) as IdentityKeyUsage[],
    extendedKeyUsage: JSON.parse(row.extendedKeyUsage) as ExtendedKeyUsageName[],
  };
}
export type EnrollmentSpec = ReturnType<typeof enrollmentSpec>;

export function enrollmentView(row: EnrollmentRow) {
  return { ...enrollmentSpec(row), createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

function checkRules(v: EnrollmentSpec) {
  for (const issue of validateIdentityTemplates({ subject: v.subject, subjectAltNames: v.subjectAltNames })) {
    throw DomainError.validation(issue.field, issue.message);
  }
  if (v.renewalWindowDays >= v.validityDays) {
    throw DomainError.validation('renewalWindowDays', `must be less than validityDays (${v.validityDays})`);
  }
}

function toColumns(input: Partial<EnrollmentInput>) {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (k === 'subjectAltNames' || k === 'keyUsage' || k === 'extendedKeyUsage')
      data[k] = JSON.stringify(k === 'subjectAltNames' ? v : [...new Set(v as string[])]);
    else data[k] = v;
  }
  if (input.name) data.nameKey = input.name.toLowerCase();
  return data;
}

export class CertificateEnrollmentService {
  /** Called after a write that changes what devices' profiles carry (the app wires reconciliation). */
  onChanged: () => void = () => {};

  constructor(private readonly db: Db) {}

  async list(actor: Actor, page: { limit: number; offset: number }, sortField: string, order: 'asc' | 'desc') {
    requireRead(actor);
    const [rows, total] = await Promise.all([enrollmentStore.list(this.db, page, { [sortField]: order }), enrollmentStore.count(this.db)]);
    return { total, results: rows.map(enrollmentView) };
  }

  async get(actor: Actor, id: number) {
    requireRead(actor);
    const row = await enrollmentStore.findById(this.db, id);
    if (!row) throw DomainError.notFound('Certificate enrollment setting', id);
    return enrollmentView(row);
  }

  async create(actor: Actor, input: EnrollmentInput) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      await assertNameFree(tx, input.name);
      const created = await enrollmentStore.create(tx, toColumns(input) as any);
      checkRules(enrollmentSpec(created)); // defaults filled in: the whole setting is checked
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'certificateEnrollment',
        objectId: created.id,
        details: { ...input },
      });
      return created;
    });
    return enrollmentView(row);
  }

  async update(actor: Actor, id: number, input: Partial<EnrollmentInput>) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await enrollmentStore.findById(tx, id);
      if (!existing) throw DomainError.notFound('Certificate enrollment setting', id);
      if (input.name && input.name.toLowerCase() !== existing.nameKey) await assertNameFree(tx, input.name);
      const updated = await enrollmentStore.update(tx, id, toColumns(input) as any);
      checkRules(enrollmentSpec(updated)); // throwing rolls the update back
      await recordAudit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: 'certificateEnrollment',
        objectId: id,
        details: { ...input },
      });
      return updated;
    });
    this.onChanged();
    return enrollmentView(row);
  }

  async remove(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await enrollmentStore.findById(tx, id);
      if (!existing) throw DomainError.notFound('Certificate enrollment setting', id);
      const vpns = await enrollmentStore.vpnConfigurationsReferencing(tx, id);
      if (vpns.length) {
        throw new DomainError(
          'certenrollment.inUse',
          `Certificate enrollment setting ${existing.name} is the identity of VPN configuration(s) ${vpns.map((v) => `${v.name} (id ${v.id})`).join(', ')}; change their certificateEnrollmentId first`,
        );
      }
      await enrollmentStore.remove(tx, id); // device identities and their unused challenges cascade
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'certificateEnrollment',
        objectId: id,
        details: { name: existing.name },
      });
    });
  }
}

async function assertNameFree(tx: DbTx, name: string) {
  const existing = await enrollmentStore.findByName(tx, name);
  if (existing) throw new DomainError('certenrollment.duplicate', `A certificate enrollment setting named ${existing.name} already exists`);
}
