// The head-end objects' CRUD answers that depend on the order of checks and on what a rename
// carries, over real HTTP and SQLite: which error wins when a request has two faults, and the
// audit entries of renames (the CRUD helper must keep each resource's own rules).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const api = '/api/v2/anyconnect';
type Res = { status: number; body: { messages?: Array<Record<string, unknown>>; results?: any } };
const fault = (res: Res) => ({ status: res.status, messageKey: res.body.messages?.[0]?.messageKey, field: res.body.messages?.[0]?.field });
const DUPLICATE = 'com.mobileiron.vsp.messages.anyconnect.duplicate';
const VALIDATION = 'com.mobileiron.vsp.messages.validation';

async function create(path: string, body: object): Promise<number> {
  const res = await t.admin.post(`${api}/${path}`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.results.id as number;
}

async function lastAudit(objectType: string) {
  const res = await t.admin.get(`/api/v2/audit?objectType=${objectType}&limit=1&sortOrder=DESC`);
  expect(res.status).toBe(200);
  return res.body.results[0] as { action: string; objectId: string; details: Record<string, unknown> };
}

describe('which fault answers when a request has two', () => {
  it('a PerApp policy checks its rules before looking the id up', async () => {
    const res = await t.admin.put(`${api}/perapp-policies/999999`).send({ rules: [{ platform: 'iOS', appId: '*' }] });
    expect(fault(res)).toEqual({ status: 400, messageKey: VALIDATION, field: 'rules.0.appId' });
  });

  it('a group policy checks the PerApp policy it names before its new name', async () => {
    await create('group-policies', { name: 'Order_GP1' });
    const gp2 = await create('group-policies', { name: 'Order_GP2' });
    const res = await t.admin.put(`${api}/group-policies/${gp2}`).send({ name: 'Order_GP1', perapp: { policy: 'Order_Missing' } });
    expect(fault(res)).toEqual({ status: 400, messageKey: VALIDATION, field: 'perapp' });
    const create2 = await t.admin.post(`${api}/group-policies`).send({ name: 'Order_GP1', perapp: { policy: 'Order_Missing' } });
    expect(fault(create2)).toEqual({ status: 409, messageKey: DUPLICATE, field: undefined });
  });

  it('a tunnel group and a DAP record check their new name before the objects they name', async () => {
    await create('tunnel-groups', { name: 'Order_TG1' });
    const tg2 = await create('tunnel-groups', { name: 'Order_TG2' });
    const tg = await t.admin.put(`${api}/tunnel-groups/${tg2}`).send({ name: 'Order_TG1', defaultGroupPolicy: 'Order_Missing' });
    expect(fault(tg)).toEqual({ status: 409, messageKey: DUPLICATE, field: undefined });
    await create('dap-records', { name: 'Order_DAP1' });
    const dap2 = await create('dap-records', { name: 'Order_DAP2' });
    const dap = await t.admin.put(`${api}/dap-records/${dap2}`).send({ name: 'Order_DAP1', perapp: { policy: 'Order_Missing' } });
    expect(fault(dap)).toEqual({ status: 409, messageKey: DUPLICATE, field: undefined });
  });
});

describe('renames', () => {
  it('a PerApp policy rename carries to the objects naming it, and its audit entry says which', async () => {
    const policy = await create('perapp-policies', { name: 'Ren_Pol', rules: [] });
    await create('group-policies', { name: 'Ren_GP', perapp: { policy: 'Ren_Pol' } });
    await create('dap-records', { name: 'Ren_DAP', perapp: { policy: 'Ren_Pol' } });
    const res = await t.admin.put(`${api}/perapp-policies/${policy}`).send({ name: 'Ren_Pol2' });
    expect(res.body.results.usedBy).toEqual({ groupPolicies: ['Ren_GP'], dapRecords: ['Ren_DAP'] });
    expect(await lastAudit('perappPolicy')).toMatchObject({
      action: 'update',
      objectId: String(policy),
      details: { name: 'Ren_Pol2', referencesRenamed: { groupPolicies: ['Ren_GP'], dapRecords: ['Ren_DAP'] } },
    });
    // a change that is not a rename records only what changed
    await t.admin.put(`${api}/perapp-policies/${policy}`).send({ name: 'Ren_Pol2', description: 'same name' });
    expect((await lastAudit('perappPolicy')).details).toEqual({ name: 'Ren_Pol2', description: 'same name' });
  });

  it('a group policy rename carries to its tunnel groups, except for DfltGrpPolicy', async () => {
    const gp = await create('group-policies', { name: 'Ren_GP3' });
    const tg = await create('tunnel-groups', { name: 'Ren_TG3', defaultGroupPolicy: 'Ren_GP3' });
    await t.admin.put(`${api}/group-policies/${gp}`).send({ name: 'Ren_GP4' });
    expect((await t.admin.get(`${api}/tunnel-groups/${tg}`)).body.results.defaultGroupPolicy).toBe('Ren_GP4');
    expect((await lastAudit('groupPolicy')).details).toEqual({ name: 'Ren_GP4', tunnelGroupsRenamed: ['Ren_TG3'] });

    const dflt = await create('group-policies', { name: 'DfltGrpPolicy', perapp: 'none' });
    const tgDflt = await create('tunnel-groups', { name: 'Ren_TG_Dflt' });
    const renamed = await t.admin.put(`${api}/group-policies/${dflt}`).send({ name: 'Ren_Dflt2' });
    expect(renamed.body.results.usedBy).toEqual({ tunnelGroups: [] });
    expect((await t.admin.get(`${api}/tunnel-groups/${tgDflt}`)).body.results.defaultGroupPolicy).toBe('DfltGrpPolicy');
    expect((await lastAudit('groupPolicy')).details).toEqual({ name: 'Ren_Dflt2' });
  });

  it('DfltGrpPolicy can be deleted while tunnel groups fall back to it', async () => {
    const dflt = await t.admin.get(`${api}/group-policies?limit=200`);
    const row = dflt.body.results.find((g: { name: string }) => g.name === 'Ren_Dflt2');
    await t.admin.put(`${api}/group-policies/${row.id}`).send({ name: 'DfltGrpPolicy' });
    expect((await t.admin.delete(`${api}/group-policies/${row.id}`)).status).toBe(200);
    expect(await lastAudit('groupPolicy')).toMatchObject({
      action: 'delete',
      objectId: String(row.id),
      details: { name: 'DfltGrpPolicy' },
    });
  });
});
