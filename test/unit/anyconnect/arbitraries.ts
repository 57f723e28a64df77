// fast-check generators of valid PerApp policies and head-end configs, shared by round-trip tests.
import fc from 'fast-check';
import type { Criterion, DapRecord, HeadEndConfig, PerAppRule, PerAppSetting } from '../../../src/lib/anyconnect/types.js';

const label = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
const exactAppId = fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.'));
const prefixAppId = fc.array(label, { minLength: 1, maxLength: 3 }).chain((ls) => fc.constantFrom(`${ls.join('.')}.*`, `${ls.join('.')}*`));
export const appIdPattern = fc.oneof(exactAppId, prefixAppId, fc.constant('*.*'));

// Printable text including XML specials; trimmed and non-empty, as normalization would leave it.
export const friendlyText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, ''))
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

const minVersion = fc.array(fc.nat(99), { minLength: 1, maxLength: 4 }).map((ns) => ns.join('.'));
const certificateId = fc.constantFrom(40, 64).chain((n) => fc.stringMatching(new RegExp(`^[0-9A-F]{${n}}$`)));

const iosRule = fc.record(
  { platform: fc.constant('iOS' as const), appId: appIdPattern, friendlyName: friendlyText },
  { requiredKeys: ['platform', 'appId'] },
);
const androidRule = fc.record(
  { platform: fc.constant('Android' as const), appId: appIdPattern, friendlyName: friendlyText, minVersion, certificateId },
  { requiredKeys: ['platform', 'appId'] },
);

/** Valid rule lists, unique per (platform, appId), in arbitrary platform order. */
export const ruleList = fc.uniqueArray(fc.oneof(iosRule, androidRule) as fc.Arbitrary<PerAppRule>, {
  maxLength: 8,
  selector: (r) => `${r.platform} ${r.appId}`,
});

export const objectName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/);

export const setting: fc.Arbitrary<PerAppSetting> = fc.oneof(
  fc.constant(null),
  fc.constant('none' as const),
  objectName.map((policy) => ({ policy })),
);

const criterionValue = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
const criterion = (kind: 'aaa' | 'endpoint'): fc.Arbitrary<Criterion> =>
  fc.record({
    attribute: fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/).map((s) => `${kind}.${s}`),
    operator: fc.constantFrom('EQ', 'NE', 'LT', 'LE', 'GT', 'GE'),
    value: criterionValue,
  });

const description = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/["\r\n]/.test(s));

const dapRecord: fc.Arbitrary<DapRecord> = fc.record({
  name: objectName,
  description,
  priority: fc.integer({ min: 0, max: 2147483647 }),
  action: fc.constantFrom('continue', 'terminate', 'quarantine'),
  aaaMode: fc.constantFrom('ANY', 'ALL', 'NONE'),
  aaaCriteria: fc.array(criterion('aaa'), { maxLength: 3 }),
  endpointCriteria: fc.array(criterion('endpoint'), { maxLength: 3 }),
  perapp: setting,
});

/** Raw (not yet normalized) head-end configs; structurally valid, references may dangle. */
export const headEndInput: fc.Arbitrary<HeadEndConfig> = fc.record({
  dapOrder: fc.constantFrom('asa', 'ftd'),
  perappAttrDescription: description,
  perappPolicies: fc.uniqueArray(fc.record({ name: objectName, rules: ruleList }), { maxLength: 3, selector: (p) => p.name }),
  groupPolicies: fc.uniqueArray(fc.record({ name: objectName, perapp: setting }), { maxLength: 3, selector: (g) => g.name }),
  tunnelGroups: fc.uniqueArray(
    fc.record({
      name: objectName,
      defaultGroupPolicy: objectName,
      authentication: fc.constantFrom('aaa', 'certificate', 'aaa certificate'),
      usernameFromCertificate: fc.oneof(
        fc.constant(null),
        fc.constant('use-entire-name' as const),
        fc.record({ primary: fc.constantFrom('CN', 'EA', 'UPN', 'OU'), secondary: fc.constantFrom('OU', 'O') }),
        fc.record({ primary: fc.constantFrom('CN', 'E', 'UID') }),
      ),
    }),
    { maxLength: 3, selector: (t) => t.name },
  ),
  dapRecords: fc.uniqueArray(dapRecord, { maxLength: 4, selector: (r) => r.name }),
  // mockiron's CA only: generating CA certificates per run would dominate the property's time
  trustpoints: fc.uniqueArray(
    fc.record({ name: objectName, caCertificate: fc.constant(null), revocationCheck: fc.constantFrom('crl', 'crl none', 'none') }),
    { maxLength: 2, selector: (t) => t.name },
  ),
});
