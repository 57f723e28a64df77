// Core's status page, as two public clients read it, replayed call for call:
// - D nosari20/centreon-mobileiron-plugin, utils/status_util.py
//   (@0e4227e504d740439ac1e38f98eb2f617f102721), used by `monitor_core.py <host> status`:
//   GET https://<host>/status/status.html without credentials (verify off); core: OK when the
//   status is 200 and the text contains "MOBILEIRON-STATUS: OK", "Core KO" (CRITICAL) when it
//   is 200 without it, an error otherwise; connector: lines containing theConnectorNameString=,
//   none → UNKNOWN "No connector found".
// - F mjdibella/MICore.PSHelper, Get-MICore (@301bdb5707eda2adb29482b9e7a469fc5fbea96a): the same
//   page with an `Authorization: Basic` header; the body split on [Environment]::NewLine (in
//   Windows PowerShell: on each of \r and \n), Status = line 0, Message = line 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('Centreon monitor_core.py status', () => {
  it('core: 200 without credentials, and the text says MOBILEIRON-STATUS: OK', async () => {
    const res = await t.anon.get('/status/status.html');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('MOBILEIRON-STATUS: OK');
  });

  it('connector: mockiron has no connectors, so no theConnectorNameString= line (the plugin says "No connector found")', async () => {
    const res = await t.anon.get('/status/status.html');
    expect(res.text.split('\n').filter((line) => line.includes('theConnectorNameString'))).toEqual([]);
  });
});

describe('MICore.PSHelper Get-MICore', () => {
  it('line 0 is the status and line 2 the message, split as Windows PowerShell splits', async () => {
    const res = await t.anon.get('/status/status.html').auth('admin', adminPassword);
    expect(res.status).toBe(200);
    const lines = res.text.split(/[\r\n]/);
    expect(lines[0]).toBe('MOBILEIRON-STATUS: OK');
    expect(lines[1]).toBe('');
    expect(lines[2]).toMatch(/\S/);
  });
});
