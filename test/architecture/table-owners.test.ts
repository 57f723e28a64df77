// One owner per table: a table's Prisma delegate (`tx.device.update(…)`) and its raw SQL
// (`FROM "Device"`) appear in its owning store only; everything else calls that store's named
// operations. Checked on the real sources of src/, and shown to fail on planted violations.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Tables with one owner so far (issue #14): the Prisma delegate name, the SQL name, the owning module. */
const owners = [
  { delegate: 'device', table: 'Device', owner: 'src/devices/store.ts' },
  { delegate: 'mdmCommand', table: 'MdmCommand', owner: 'src/mdm/store.ts' },
  { delegate: 'pushRecord', table: 'PushRecord', owner: 'src/mdm/store.ts' },
  { delegate: 'deviceCertificate', table: 'DeviceCertificate', owner: 'src/certificates/store.ts' },
  { delegate: 'deviceApp', table: 'DeviceApp', owner: 'src/inventory/store.ts' },
  { delegate: 'pushCertificate', table: 'PushCertificate', owner: 'src/mdm/push-certificate.ts' },
  { delegate: 'deadPushToken', table: 'DeadPushToken', owner: 'src/mdm/push-certificate.ts' },
];

const delegateMethods =
  'findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|findMany|count|aggregate|groupBy|create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany';

interface Source {
  file: string;
  code: string;
}

function sources(dir: string): Source[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p);
    if (!/\.(ts|mjs)$/.test(e.name)) return [];
    // comments may name a delegate or quote SQL; only code counts
    return [{ file: path.relative(root, p), code: readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '') }];
  });
}

/** Every use of an owned table outside its owner, as "file: what". */
function violations(files: Source[]): string[] {
  const found: string[] = [];
  for (const { delegate, table, owner } of owners) {
    const uses = [
      new RegExp(`\\.${delegate}\\s*\\.\\s*(?:${delegateMethods})\\s*\\(`, 'g'),
      new RegExp(`\\b(?:FROM|JOIN|INTO|UPDATE)\\s+"?${table}"?(?![\\w"])`, 'g'),
    ];
    for (const { file, code } of files) {
      if (file === owner) continue;
      for (const use of uses)
        for (const [what] of code.matchAll(use)) found.push(`${file}: ${what.replace(/\s+/g, ' ')} (table ${table} belongs to ${owner})`);
    }
  }
  return found;
}

const real = sources(path.join(root, 'src'));

describe('table owners', () => {
  it('reads the real sources, and finds the owner using its table', () => {
    expect(real.length).toBeGreaterThan(100);
    const owner = real.find((s) => s.file === 'src/devices/store.ts')!;
    expect(violations([{ ...owner, file: 'src/elsewhere.ts' }]).length).toBeGreaterThan(5);
  });

  it('holds on src/: only src/devices/store.ts touches the Device table, only src/mdm/store.ts the command queue and push records', () => {
    expect(violations(real)).toEqual([]);
  });

  it.each<[string, string, RegExp]>([
    ['a Prisma read', 'const d = await this.db.device.findUnique({ where: { id } });', /\.device\.findUnique\(/],
    ['a Prisma write in a transaction', 'await tx.device\n  .update({ where: { id }, data });', /\.device \.update\(/],
    ['raw SQL', 'await tx.$queryRawUnsafe(`SELECT id FROM "Device" WHERE udid = ?`, udid);', /FROM "Device"/],
    ['raw SQL without quotes', "await tx.$executeRawUnsafe('UPDATE Device SET status = ?', s);", /UPDATE Device/],
  ])('fails on a planted violation: %s', (_name, line, what) => {
    const found = violations([...real, { file: 'src/mdm/planted.ts', code: line }]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(what);
    expect(found[0]).toMatch(/^src\/mdm\/planted\.ts: .*belongs to src\/devices\/store\.ts/);
  });

  it('fails on the command queue read outside MDM, and on push records written outside its store', () => {
    const found = violations([
      ...real,
      { file: 'src/devices/planted.ts', code: 'const queued = await tx.mdmCommand.count({ where: { deviceRef } });' },
      { file: 'src/mdm/push-planted.ts', code: 'await this.db.pushRecord.create({ data });' },
    ]);
    expect(found).toEqual([
      'src/devices/planted.ts: .mdmCommand.count( (table MdmCommand belongs to src/mdm/store.ts)',
      'src/mdm/push-planted.ts: .pushRecord.create( (table PushRecord belongs to src/mdm/store.ts)',
    ]);
  });

  it('does not mistake other tables or plain words for the Device table', () => {
    const innocent = [
      'await tx.deviceLabel.count({ where: { deviceRef } });',
      'await tx.$queryRawUnsafe(`SELECT * FROM "DeviceLabel"`);',
      'const device = row.device; device.update = 1;',
      "logger.info('update Device records from the directory');",
    ].join('\n');
    expect(violations([{ file: 'src/mdm/innocent.ts', code: innocent }])).toEqual([]);
  });
});
