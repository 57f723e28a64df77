// REST routes for the AnyConnect head-end model under /api/v2/anyconnect (a mockiron extension).
import { z } from 'zod';
import { listEnvelope, listQuery } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { intId, text, uuidParam } from '../platform/http/validators.js';
import { MAX_DAP_PRIORITY, NAME_PATTERN } from '../lib/anyconnect/headend.js';
import {
  AAA_MODES,
  AUTHENTICATION_REFUSALS,
  CERTIFICATE_NAME_FIELDS,
  COMPRESSIONS,
  CRITERION_OPERATORS,
  DAP_ACTIONS,
  MAX_CLIENT_CERTIFICATE_PEM,
  MAX_TRUSTPOINTS,
  PLATFORMS,
  REVOCATION_CHECKS,
  TUNNEL_AUTHENTICATIONS,
  perappSettingSchema,
  trustpointSchema,
  tunnelAuthenticationSchema,
  usernameFromCertificateSchema,
} from '../lib/anyconnect/index.js';
import { DAP_ATTRIBUTE_PATTERN } from '../lib/anyconnect/headend.js';
import type { AnyconnectService } from './service.js';

const base = '/anyconnect';
const tag = 'AnyConnect';

const singleLine = (max: number) => text(max).refine((s) => !/[\r\n\t]/.test(s), 'must be a single line');
// Names go into ASA CLI unquoted, so they have no spaces (the pure model's rule).
const objectName = (what: string) =>
  z.string().regex(NAME_PATTERN, `${what} must be 1-64 characters of letters, digits, '_', '.' or '-' (no spaces)`);
// Descriptions land in quoted or bare CLI lines; keep them short and without double quotes.
const cliDescription = singleLine(200).refine((s) => !s.includes('"'), 'must not contain double quotes');

const perapp = perappSettingSchema.describe(
  '{"policy":"NAME"} binds a PerApp policy, "none" means explicitly no perapp (full tunnel), null is unset (inherit)',
);

const rule = z.strictObject({
  platform: z.string().max(16).describe("'iOS' or 'Android' (case-insensitive)"),
  appId: z.string().max(300).describe("reverse-DNS app ID; '*' only as the last character; '*.*' = all apps"),
  friendlyName: z.string().max(300).optional(),
  minVersion: z.string().max(32).optional().describe('Android only'),
  certificateId: z.string().max(200).optional().describe('Android only: 40 or 64 hex digits, colons allowed'),
});

const criterion = z.strictObject({
  attribute: z
    .string()
    .max(200)
    .regex(
      DAP_ATTRIBUTE_PATTERN,
      "must be a DAP attribute name such as 'endpoint.anyconnect.platform', 'aaa.ldap.memberOf' or 'endpoint.certificate.user[\"0\"].subject_cn'",
    ),
  operator: z.enum(CRITERION_OPERATORS),
  value: singleLine(256),
});

const perappPolicyFields = { name: objectName('name'), description: text(1024).optional(), rules: z.array(rule).max(1000) };
const groupPolicyFields = { name: objectName('name'), perapp: perapp.optional() };
const tunnelGroupFields = {
  name: objectName('name'),
  defaultGroupPolicy: objectName('defaultGroupPolicy').optional().describe('default DfltGrpPolicy'),
  authentication: tunnelAuthenticationSchema.optional().describe("ASA webvpn-attributes 'authentication'; default aaa"),
  usernameFromCertificate: usernameFromCertificateSchema
    .optional()
    .describe('"CN", "CN OU", {"primary":"EA"}, "use-entire-name", or null for the ASA default (CN, then OU)'),
};
const usernameFromResult = z
  .union([
    z.literal('use-entire-name'),
    z.object({ primary: z.enum(CERTIFICATE_NAME_FIELDS), secondary: z.enum(CERTIFICATE_NAME_FIELDS).optional() }),
  ])
  .nullable();
const trustpointResult = z.object({ name: z.string(), caCertificate: z.string().nullable(), revocationCheck: z.enum(REVOCATION_CHECKS) });
const dapRecordFields = {
  name: objectName('name'),
  description: cliDescription.optional(),
  priority: z
    .number()
    .int()
    .min(0)
    .max(MAX_DAP_PRIORITY)
    .optional()
    .describe('ASA: the higher number wins; FTD: the lower (see settings.dapOrder)'),
  action: z.enum(DAP_ACTIONS).optional(),
  aaaMode: z.enum(AAA_MODES).optional(),
  aaaCriteria: z.array(criterion).max(50).optional(),
  endpointCriteria: z.array(criterion).max(50).optional().describe('all must hold'),
  perapp: perapp.optional(),
};

const partial = <T extends Record<string, z.ZodType>>(fields: T) =>
  z.strictObject(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> });

const attributeValue = singleLine(512);
const aaaMap = z
  .record(
    z.string().regex(/^aaa\.[A-Za-z0-9_.-]{1,120}$/, "AAA attribute names start with 'aaa.', e.g. aaa.cisco.username"),
    z.union([attributeValue, z.array(attributeValue).max(100)]),
  )
  .refine((m) => Object.keys(m).length <= 100, 'at most 100 AAA attributes')
  .describe('e.g. {"aaa.cisco.username":"jdoe","aaa.ldap.memberOf":["VPN Users","Staff"]}');
const endpointMap = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'endpoint attribute names: endpoint.anyconnect.platform or the short form platform'),
    singleLine(256),
  )
  .refine((m) => Object.keys(m).length <= 100, 'at most 100 endpoint attributes')
  .describe(
    'e.g. {"endpoint.anyconnect.platform":"apple-ios","endpoint.anyconnect.platformversion":"9.3.1"}; short keys (platform) are expanded',
  );
const sessionFields = {
  tunnelGroup: objectName('tunnelGroup').optional(),
  aaa: aaaMap.optional(),
  endpoint: endpointMap.optional(),
  userPerapp: perapp.optional().describe('perapp pushed as a user attribute by AAA (rare)'),
  deviceUuid: uuidParam
    .optional()
    .describe(
      'derive endpoint attributes (and, for /simulate, the MDM binding) from this device; without clientCertificate, it presents its newest identity certificate',
    ),
  clientCertificate: z
    .string()
    .max(MAX_CLIENT_CERTIFICATE_PEM, `must be at most ${MAX_CLIENT_CERTIFICATE_PEM} characters of PEM`)
    .optional()
    .describe('PEM of the client certificate the session presents (checked when the tunnel group authenticates with certificates)'),
  aaaAuthenticated: z.boolean().optional().describe('false: the AAA (password) step fails; mockiron checks no passwords (default true)'),
};
const app = z.strictObject({
  appId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/, 'must be a reverse-DNS app ID such as com.google.chrome.ios')
    .max(255),
  version: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z.\-]{1,32}$/, 'must be a version such as 1.2.3')
    .optional(),
  certificateId: singleLine(200).optional(),
});
const mdmBinding = z.strictObject({
  managed: z.boolean(),
  vpnUuid: z
    .string()
    .regex(/^[0-9A-Fa-f-]{8,64}$/, 'must be a UUID')
    .nullable(),
  vpnConfigName: singleLine(128).optional(),
});

// A text/plain body arrives as a string; JSON as {"text": "..."} (or a bare JSON string).
const cliBody = z.union([z.string().max(1_000_000), z.strictObject({ text: z.string().max(1_000_000) })], {
  error: 'send the ASA CLI as a text/plain body or as {"text": "..."}',
});
const cliText = (body: z.output<typeof cliBody>) => (typeof body === 'string' ? body : body.text);

const stamped = { id: z.number(), name: z.string(), createdAt: z.string(), updatedAt: z.string() };
const perappPolicyResult = z.object({
  ...stamped,
  description: z.string(),
  rules: z.array(rule),
  usedBy: z.object({ groupPolicies: z.array(z.string()), dapRecords: z.array(z.string()) }),
});
const groupPolicyResult = z.object({ ...stamped, perapp, usedBy: z.object({ tunnelGroups: z.array(z.string()) }) });
const tunnelGroupResult = z.object({
  ...stamped,
  defaultGroupPolicy: z.string(),
  authentication: z.enum(TUNNEL_AUTHENTICATIONS),
  usernameFromCertificate: usernameFromResult,
});
const dapRecordResult = z.object({
  ...stamped,
  description: z.string(),
  priority: z.number(),
  action: z.enum(DAP_ACTIONS),
  aaaMode: z.enum(AAA_MODES),
  aaaCriteria: z.array(criterion),
  endpointCriteria: z.array(criterion),
  perapp,
  warnings: z.array(z.string()),
});
const settingsResult = z.object({
  dapOrder: z.enum(['asa', 'ftd']),
  perappAttrDescription: z.string(),
  trustpoints: z.array(trustpointResult),
});
const configIssue = z.object({ severity: z.enum(['error', 'warning']), path: z.string(), message: z.string() });
const headEndResult = z.object({
  config: z.object({
    dapOrder: z.enum(['asa', 'ftd']),
    perappAttrDescription: z.string(),
    perappPolicies: z.array(z.object({ name: z.string(), rules: z.array(rule) })),
    groupPolicies: z.array(z.object({ name: z.string(), perapp })),
    tunnelGroups: z.array(
      z.object({
        name: z.string(),
        defaultGroupPolicy: z.string(),
        authentication: z.enum(TUNNEL_AUTHENTICATIONS),
        usernameFromCertificate: usernameFromResult,
      }),
    ),
    trustpoints: z.array(trustpointResult),
    dapRecords: z.array(
      z.object({
        name: z.string(),
        description: z.string().optional(),
        priority: z.number(),
        action: z.enum(DAP_ACTIONS),
        aaaMode: z.enum(AAA_MODES),
        aaaCriteria: z.array(criterion),
        endpointCriteria: z.array(criterion),
        perapp,
      }),
    ),
  }),
  issues: z.array(configIssue),
});
const perappSource = z.enum(['dap', 'user', 'group-policy', 'tunnel-group-default', 'default']);
const stepOutcome = z.enum(['passed', 'refused', 'not-required']);
const refusal = z
  .object({ code: z.enum(AUTHENTICATION_REFUSALS), message: z.string() })
  .nullable()
  .describe('why the head-end refused the connection before DAP (certificate or AAA)');
const authenticationResult = z
  .object({
    method: z.enum(TUNNEL_AUTHENTICATIONS),
    aaa: stepOutcome,
    certificate: stepOutcome,
    trustpoint: z.string().nullable(),
    username: z.string().nullable(),
    usernameSource: z.enum(['aaa', 'certificate']).nullable(),
    presentedCertificate: z
      .object({ subject: z.string(), issuer: z.string(), serialNumber: z.string(), notBefore: z.string(), notAfter: z.string() })
      .nullable(),
    refusal,
    checks: z.array(z.string()),
    certificateAttributes: z.record(z.string(), z.string()).describe('the certificate fields DAP sees (endpoint.certificate.user["0"].*)'),
  })
  .nullable();
const resolveResult = z.object({
  terminated: z.boolean(),
  refusal,
  authentication: authenticationResult,
  quarantined: z.boolean(),
  failedClosed: z
    .boolean()
    .describe('terminated because the config is broken (unknown tunnel group or PerApp policy), not by a DAP action'),
  tunnelGroup: z.string(),
  userGroupPolicy: z.string().nullable(),
  selectedDapRecords: z
    .array(z.object({ name: z.string(), priority: z.number(), action: z.enum(DAP_ACTIONS), perapp, why: z.array(z.string()) }))
    .describe('winners first'),
  notSelectedDapRecords: z.array(z.object({ name: z.string(), why: z.array(z.string()) })),
  perappPolicy: z.string().nullable(),
  perappRules: z.array(rule).nullable(),
  perappBlob: z.string().nullable().describe('the Base64 value the head-end would send as <custom-attr><perapp>'),
  source: perappSource,
  sourceName: z.string().nullable(),
  mode: z.enum(['perApp', 'full']),
  layers: z.array(z.object({ layer: perappSource, from: z.string().nullable(), setting: perapp, note: z.string().optional() })),
  reasons: z.array(z.string()),
  session: z.object({
    tunnelGroup: z.string(),
    aaa: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    endpoint: z.record(z.string(), z.string()),
    userPerapp: perapp.optional(),
    clientCertificatePem: z.string().optional(),
    aaaAuthenticated: z.boolean().optional(),
  }),
}); /** Documented answers of /headend and /resolve (tests hold the real answers to them). */
export const anyconnectResultSchemas = { headEnd: headEndResult, resolve: resolveResult };

const deleted = (id: number) => ({ results: { id, deleted: true } });

export function registerAnyconnectRoutes(t: RouteTable, anyconnect: AnyconnectService): void {
  const params = z.object({ id: intId });
  const order = (o: string) => (o === 'DESC' ? 'desc' : 'asc') as 'asc' | 'desc';

  // -- PerApp policies --
  t.add({
    method: 'post',
    status: 201,
    path: `${base}/perapp-policies`,
    tag,
    summary: 'Create a PerApp policy (rules are validated; errors name rules.N.field)',
    body: z.strictObject(perappPolicyFields),
    results: perappPolicyResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await anyconnect.perappPolicies.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: `${base}/perapp-policies`,
    tag,
    summary: 'List PerApp policies',
    query: listQuery(['id', 'name', 'createdAt']),
    results: z.array(perappPolicyResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await anyconnect.perappPolicies.list(actor, query, query.sortField ?? 'id', order(query.sortOrder));
      return listEnvelope(results, total, query);
    },
  });
  // Before /:id so that "decode" is not read as an id.
  t.add({
    method: 'post',
    path: `${base}/perapp-policies/decode`,
    tag,
    readOnly: true,
    summary: 'Decode a PerApp blob (zlib, gzip or raw deflate; line breaks ignored); 400 names the failing stage',
    body: z.strictObject({
      blob: z.string().max(1_000_000),
      strict: z.boolean().optional().describe('reject unknown XML elements/attributes (default true)'),
    }),
    results: z.object({ rules: z.array(rule), compression: z.enum(COMPRESSIONS), xml: z.string() }),
    handler: ({ actor, body }) => ({ results: anyconnect.decodePerappBlob(actor, body.blob, body.strict ?? true) }),
  });
  t.add({
    method: 'get',
    path: `${base}/perapp-policies/:id`,
    tag,
    summary: 'Get a PerApp policy and who uses it',
    params,
    results: perappPolicyResult,
    handler: async ({ actor, params }) => ({ results: await anyconnect.perappPolicies.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: `${base}/perapp-policies/:id`,
    tag,
    summary: 'Update a PerApp policy (a rename updates the group policies and DAP records naming it)',
    params,
    body: partial(perappPolicyFields),
    results: perappPolicyResult,
    handler: async ({ actor, params, body }) => ({ results: await anyconnect.perappPolicies.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: `${base}/perapp-policies/:id`,
    tag,
    summary: 'Delete a PerApp policy (409 while a group policy or DAP record names it)',
    params,
    handler: async ({ actor, params }) => {
      await anyconnect.perappPolicies.remove(actor, params.id);
      return deleted(params.id);
    },
  });
  t.add({
    method: 'get',
    path: `${base}/perapp-policies/:id/blob`,
    tag,
    summary: 'The compressed Base64 blob and its anyconnect-custom-data lines (mockiron format)',
    params,
    query: z.object({
      compression: z.enum(COMPRESSIONS).default('zlib').describe('zlib is what the head-end uses; gzip/raw exist to exercise decoders'),
    }),
    results: z.object({
      name: z.string(),
      blob: z.string(),
      compression: z.enum(COMPRESSIONS),
      length: z.number(),
      asaLines: z.array(z.string()),
    }),
    handler: async ({ actor, params, query }) => ({ results: await anyconnect.perappPolicyBlob(actor, params.id, query.compression) }),
  });

  // -- group policies --
  t.add({
    method: 'post',
    status: 201,
    path: `${base}/group-policies`,
    tag,
    summary: 'Create a group policy (perapp must name an existing PerApp policy)',
    body: z.strictObject(groupPolicyFields),
    results: groupPolicyResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await anyconnect.groupPolicies.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: `${base}/group-policies`,
    tag,
    summary: 'List group policies',
    query: listQuery(['id', 'name', 'createdAt']),
    results: z.array(groupPolicyResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await anyconnect.groupPolicies.list(actor, query, query.sortField ?? 'id', order(query.sortOrder));
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'get',
    path: `${base}/group-policies/:id`,
    tag,
    summary: 'Get a group policy',
    params,
    results: groupPolicyResult,
    handler: async ({ actor, params }) => ({ results: await anyconnect.groupPolicies.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: `${base}/group-policies/:id`,
    tag,
    summary: 'Update a group policy (a rename updates tunnel groups using it)',
    params,
    body: partial(groupPolicyFields),
    results: groupPolicyResult,
    handler: async ({ actor, params, body }) => ({ results: await anyconnect.groupPolicies.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: `${base}/group-policies/:id`,
    tag,
    summary: 'Delete a group policy (409 while a tunnel group uses it as default)',
    params,
    handler: async ({ actor, params }) => {
      await anyconnect.groupPolicies.remove(actor, params.id);
      return deleted(params.id);
    },
  });

  // -- tunnel groups --
  t.add({
    method: 'post',
    status: 201,
    path: `${base}/tunnel-groups`,
    tag,
    summary: 'Create a tunnel group (connection profile)',
    body: z.strictObject(tunnelGroupFields),
    results: tunnelGroupResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await anyconnect.tunnelGroups.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: `${base}/tunnel-groups`,
    tag,
    summary: 'List tunnel groups',
    query: listQuery(['id', 'name', 'createdAt']),
    results: z.array(tunnelGroupResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await anyconnect.tunnelGroups.list(actor, query, query.sortField ?? 'id', order(query.sortOrder));
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'get',
    path: `${base}/tunnel-groups/:id`,
    tag,
    summary: 'Get a tunnel group',
    params,
    results: tunnelGroupResult,
    handler: async ({ actor, params }) => ({ results: await anyconnect.tunnelGroups.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: `${base}/tunnel-groups/:id`,
    tag,
    summary: 'Update a tunnel group',
    params,
    body: partial(tunnelGroupFields),
    results: tunnelGroupResult,
    handler: async ({ actor, params, body }) => ({ results: await anyconnect.tunnelGroups.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: `${base}/tunnel-groups/:id`,
    tag,
    summary: 'Delete a tunnel group',
    params,
    handler: async ({ actor, params }) => {
      await anyconnect.tunnelGroups.remove(actor, params.id);
      return deleted(params.id);
    },
  });

  // -- DAP records --
  t.add({
    method: 'post',
    status: 201,
    path: `${base}/dap-records`,
    tag,
    summary: 'Create a DAP record (results carry warnings for likely mistakes)',
    body: z.strictObject(dapRecordFields),
    results: dapRecordResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await anyconnect.dapRecords.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: `${base}/dap-records`,
    tag,
    summary: 'List DAP records',
    query: listQuery(['id', 'name', 'priority', 'createdAt']),
    results: z.array(dapRecordResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await anyconnect.dapRecords.list(actor, query, query.sortField ?? 'id', order(query.sortOrder));
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'get',
    path: `${base}/dap-records/:id`,
    tag,
    summary: 'Get a DAP record',
    params,
    results: dapRecordResult,
    handler: async ({ actor, params }) => ({ results: await anyconnect.dapRecords.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: `${base}/dap-records/:id`,
    tag,
    summary: 'Update a DAP record (fields given replace stored ones; criteria lists are replaced whole)',
    params,
    body: partial(dapRecordFields),
    results: dapRecordResult,
    handler: async ({ actor, params, body }) => ({ results: await anyconnect.dapRecords.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: `${base}/dap-records/:id`,
    tag,
    summary: 'Delete a DAP record',
    params,
    handler: async ({ actor, params }) => {
      await anyconnect.dapRecords.remove(actor, params.id);
      return deleted(params.id);
    },
  });

  // -- settings and the whole head-end --
  t.add({
    method: 'get',
    path: `${base}/settings`,
    tag,
    summary: 'Head-end settings: DAP priority order, the perapp attribute description and the trustpoints',
    results: settingsResult,
    handler: async ({ actor }) => ({ results: await anyconnect.getSettings(actor) }),
  });
  t.add({
    method: 'put',
    path: `${base}/settings`,
    tag,
    summary: "Update head-end settings ('asa': higher DAP priority wins; 'ftd': lower wins)",
    body: z.strictObject({
      dapOrder: z.enum(['asa', 'ftd']).optional(),
      perappAttrDescription: cliDescription.optional(),
      trustpoints: z
        .array(trustpointSchema)
        .max(MAX_TRUSTPOINTS)
        .optional()
        .describe("crypto ca trustpoint: CAs trusted for client certificates (empty: mockiron's CA as MOCKIRON_CA, revocation-check crl)"),
    }),
    results: settingsResult,
    handler: async ({ actor, body }) => ({ results: await anyconnect.updateSettings(actor, body) }),
  });
  t.add({
    method: 'get',
    path: `${base}/headend`,
    tag,
    summary: 'The whole head-end config as JSON, with consistency issues',
    results: headEndResult,
    handler: async ({ actor }) => ({ results: await anyconnect.headEnd(actor) }),
  });
  t.add({
    method: 'get',
    path: `${base}/asa-config`,
    tag,
    summary: 'The head-end as ASA CLI (text/plain; anyconnect-custom-data lines at most 420 characters)',
    responseMediaType: 'text/plain',
    handler: async ({ actor }) => new Reply(200, await anyconnect.asaConfig(actor), { 'content-type': 'text/plain; charset=utf-8' }),
  });
  t.add({
    method: 'post',
    path: `${base}/asa-config/parse`,
    tag,
    readOnly: true,
    summary: 'Parse ASA CLI to JSON without storing it (400 names the line)',
    body: cliBody,
    bodyMediaType: ['text/plain', 'application/json'],
    handler: ({ actor, body }) => ({ results: anyconnect.parseAsaConfig(actor, cliText(body)) }),
  });
  t.add({
    method: 'post',
    path: `${base}/asa-config/import`,
    tag,
    summary: 'Replace the whole head-end with parsed ASA CLI, in one transaction (refused if inconsistent)',
    body: cliBody,
    bodyMediaType: ['text/plain', 'application/json'],
    handler: async ({ actor, body }) => ({ results: await anyconnect.importAsaConfig(actor, cliText(body)) }),
  });

  // -- sessions --
  t.add({
    method: 'post',
    path: `${base}/resolve`,
    tag,
    readOnly: true,
    errors: [404],
    summary: 'Resolve a session: selected DAP records, attribute layers and the perapp value sent',
    body: z.strictObject(sessionFields),
    results: resolveResult,
    handler: async ({ actor, body }) => ({ results: await anyconnect.resolve(actor, body) }),
  });
  t.add({
    method: 'post',
    path: `${base}/simulate`,
    tag,
    readOnly: true,
    errors: [404],
    summary: "Would this app's traffic tunnel? (iOS: MDM binding AND ASA policy; Android: ASA policy)",
    body: z.strictObject({ ...sessionFields, platform: z.enum(PLATFORMS).optional(), mdmBinding: mdmBinding.optional(), app }),
    results: z
      .object({
        tunneled: z.boolean(),
        mode: z.enum(['perApp', 'full']),
        refusal,
        authentication: authenticationResult,
        reasons: z.array(z.string()),
      })
      .loose(),
    handler: async ({ actor, body }) => ({ results: await anyconnect.simulate(actor, body) }),
  });
}
