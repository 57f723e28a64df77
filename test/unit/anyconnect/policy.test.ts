import { describe, expect, it } from 'vitest';
import { matchAppId, validateAppIdPattern } from '../../../src/lib/anyconnect/appid.js';
import { PerAppValidationError, checkPerAppPolicy, isAppPermitted, normalizePerAppPolicy } from '../../../src/lib/anyconnect/policy.js';
import type { PerAppPolicy } from '../../../src/lib/anyconnect/types.js';

const SHA256_A = 'AB'.repeat(32);
const SHA256_B = 'CD'.repeat(32);

describe('app ID patterns (design note 5.8)', () => {
  it.each([
    ['com.cisco.*', 'com.cisco.jabber', true],
    ['com.cisco.*', 'com.cisco', false],
    ['com.cisco.*', 'com.ciscoX.a', false],
    ['com.cis*', 'com.cisco', true],
    ['com.cis*', 'com.ciscox.app', true],
    ['*.*', 'anything.at.all', true],
    ['com.google.chrome.ios', 'com.google.chrome.ios', true],
    ['com.google.chrome.ios', 'com.google.Chrome.ios', false], // case-sensitive (mock decision)
  ])('%s vs %s → %s', (pattern, appId, expected) => {
    expect(validateAppIdPattern(pattern).ok).toBe(true);
    expect(matchAppId(pattern, appId)).toBe(expected);
  });

  it.each([
    ['com.*.app', /must be the last character/],
    ['*', /use '\*\.\*'/],
    ['com..x', /empty label/],
    ['.com.x', /empty label/],
    ['com.x.', /empty label/],
    ['com..*', /empty label/],
    ['chrome', /at least two dot-separated labels/],
    ['com.ex ample', /contains ' '/],
    ['', /empty/],
    ['a.b**', /must be the last character/],
  ])('rejects %j', (pattern, message) => {
    const result = validateAppIdPattern(pattern);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('trims whitespace around an app ID', () => {
    expect(validateAppIdPattern('  com.example.app ')).toEqual({ ok: true, appId: 'com.example.app' });
  });
});

describe('policy validation', () => {
  it('names every bad rule by index, with a hint for a lone *', () => {
    const result = checkPerAppPolicy({
      rules: [
        { platform: 'iOS', appId: 'com.ok.app' },
        { platform: 'iOS', appId: 'com.*.app' },
        { platform: 'iOS', appId: '*' },
        { platform: 'Windows', appId: 'com.x.y' },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = Object.fromEntries(result.issues.map((i) => [i.path.join('.'), i.message]));
    expect(Object.keys(byPath).sort()).toEqual(['rules.1.appId', 'rules.2.appId', 'rules.3.platform']);
    expect(byPath['rules.2.appId']).toMatch(/use '\*\.\*' to allow all apps/);
    expect(byPath['rules.3.platform']).toMatch(/'iOS' or 'Android'/);
  });

  it('rejects Android-only fields on iOS rules, duplicates, bad versions and certificate IDs', () => {
    const result = checkPerAppPolicy([
      { platform: 'iOS', appId: 'com.a.b', minVersion: '1.0' },
      { platform: 'iOS', appId: 'com.a.c', certificateId: SHA256_A },
      { platform: 'Android', appId: 'com.a.d', minVersion: 'one' },
      { platform: 'Android', appId: 'com.a.e', certificateId: 'XYZ' },
      { platform: 'Android', appId: 'com.a.f', minVersion: 4.1 },
      { platform: 'Android', appId: 'com.a.g' },
      { platform: 'Android', appId: 'com.a.g' },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).toMatch(/rules\.0\.minVersion: minVersion is Android-only/);
    expect(text).toMatch(/rules\.1\.certificateId: certificateId is Android-only/);
    expect(text).toMatch(/rules\.2\.minVersion: minVersion 'one' must be/);
    expect(text).toMatch(/rules\.3\.certificateId: certificateId must be 40 or 64 hex digits/);
    expect(text).toMatch(/rules\.4\.minVersion: .*quote it/);
    expect(text).toMatch(/rules\.6\.appId: duplicates rules\[5\]/);
  });

  it('rejects unknown keys (a typo must not pass silently)', () => {
    const result = checkPerAppPolicy({ rules: [{ platform: 'iOS', appID: 'com.a.b' }] });
    expect(result.ok).toBe(false);
  });

  it('normalizes: platform case, certificate colons, iOS rules first', () => {
    const policy = normalizePerAppPolicy({
      rules: [
        { platform: 'android', appId: 'com.android.chrome', certificateId: `${'ab:'.repeat(31)}ab` },
        { platform: 'IOS', appId: ' com.google.chrome.ios ', friendlyName: ' Chrome ' },
      ],
    });
    expect(policy).toEqual({
      version: 1,
      rules: [
        { platform: 'iOS', appId: 'com.google.chrome.ios', friendlyName: 'Chrome' },
        { platform: 'Android', appId: 'com.android.chrome', certificateId: SHA256_A },
      ],
    });
  });

  it('accepts an empty rules list (per-app mode that permits nothing)', () => {
    expect(normalizePerAppPolicy({ rules: [] })).toEqual({ version: 1, rules: [] });
  });

  it('throws PerAppValidationError with a readable message', () => {
    expect(() => normalizePerAppPolicy({ rules: [{ platform: 'iOS', appId: '*' }] })).toThrow(PerAppValidationError);
    expect(() => normalizePerAppPolicy({ rules: [{ platform: 'iOS', appId: '*' }] })).toThrow(/rules\[0\]\.appId/);
  });
});

describe('isAppPermitted', () => {
  const policy: PerAppPolicy = normalizePerAppPolicy({
    rules: [
      { platform: 'iOS', appId: 'com.google.chrome.ios', friendlyName: 'Chrome' },
      { platform: 'iOS', appId: 'com.cisco.*' },
      { platform: 'Android', appId: 'com.cisco.anyconnect.vpn', minVersion: '4.0' },
      { platform: 'Android', appId: 'com.example.signed', certificateId: SHA256_A },
    ],
  });

  it('matches exact IDs and prefix wildcards on the same platform', () => {
    expect(isAppPermitted(policy, { platform: 'iOS', appId: 'com.google.chrome.ios' })).toMatchObject({ permitted: true, ruleIndex: 0 });
    expect(isAppPermitted(policy, { platform: 'iOS', appId: 'com.cisco.jabber' })).toMatchObject({ permitted: true, ruleIndex: 1 });
    const denied = isAppPermitted(policy, { platform: 'iOS', appId: 'com.cisco' });
    expect(denied.permitted).toBe(false);
    expect(denied.reason).toMatch(/no iOS rule matches 'com\.cisco'/);
  });

  it('never crosses platforms: an iOS rule does not permit the same ID on Android', () => {
    const decision = isAppPermitted(policy, { platform: 'Android', appId: 'com.google.chrome.ios' });
    expect(decision.permitted).toBe(false);
    expect(decision.reason).toMatch(/rules never cross platforms/);
  });

  it('*.* permits anything, but only on its platform', () => {
    const wildcard = normalizePerAppPolicy({ rules: [{ platform: 'iOS', appId: '*.*' }] });
    expect(isAppPermitted(wildcard, { platform: 'iOS', appId: 'com.p5sys.jumpdesktop' }).permitted).toBe(true);
    const android = isAppPermitted(wildcard, { platform: 'Android', appId: 'com.android.chrome' });
    expect(android.permitted).toBe(false);
    expect(android.reason).toMatch(/no Android rules/);
  });

  it('checks Android minVersion: 3.9.9 denied, 4.0 and 4.0.1 permitted, unknown denied', () => {
    const q = { platform: 'Android' as const, appId: 'com.cisco.anyconnect.vpn' };
    const old = isAppPermitted(policy, { ...q, appVersion: '3.9.9' });
    expect(old.permitted).toBe(false);
    expect(old.reason).toMatch(/3\.9\.9 is below the rule's minVersion 4\.0/);
    expect(isAppPermitted(policy, { ...q, appVersion: '4.0' }).permitted).toBe(true);
    expect(isAppPermitted(policy, { ...q, appVersion: '4.0.1' }).permitted).toBe(true);
    expect(isAppPermitted(policy, q).reason).toMatch(/version is unknown/);
  });

  it('checks the Android signing certificate ID (case and colons ignored)', () => {
    const q = { platform: 'Android' as const, appId: 'com.example.signed' };
    expect(isAppPermitted(policy, { ...q, certificateId: SHA256_A.toLowerCase() }).permitted).toBe(true);
    const mismatch = isAppPermitted(policy, { ...q, certificateId: SHA256_B });
    expect(mismatch.permitted).toBe(false);
    expect(mismatch.reason).toMatch(/differs from the rule's/);
    expect(isAppPermitted(policy, q).permitted).toBe(false);
  });

  it('reports the most specific matching rule', () => {
    const p = normalizePerAppPolicy({
      rules: [
        { platform: 'iOS', appId: '*.*' },
        { platform: 'iOS', appId: 'com.*' },
        { platform: 'iOS', appId: 'com.example.app' },
      ],
    });
    expect(isAppPermitted(p, { platform: 'iOS', appId: 'com.example.app' }).ruleIndex).toBe(2);
    expect(isAppPermitted(p, { platform: 'iOS', appId: 'com.other' }).ruleIndex).toBe(1);
    expect(isAppPermitted(p, { platform: 'iOS', appId: 'org.other' }).ruleIndex).toBe(0);
  });

  it('a failing specific rule does not hide a passing broader one', () => {
    const p = normalizePerAppPolicy({
      rules: [
        { platform: 'Android', appId: 'com.example.app', minVersion: '9' },
        { platform: 'Android', appId: 'com.example.*' },
      ],
    });
    expect(isAppPermitted(p, { platform: 'Android', appId: 'com.example.app', appVersion: '1' })).toMatchObject({
      permitted: true,
      ruleIndex: 1,
    });
  });
});
