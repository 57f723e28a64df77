import { z } from 'zod';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { bundleId, domainList, intId, name, text, vpnServer } from '../platform/http/validators.js';
import { VPN_USER_AUTHENTICATIONS } from '../lib/profiles/vpn-payload.js';
import { connectionTypes, type VpnService } from './service.js';

/** Usernames may carry MobileIron variables such as $USERID$ or $EMAIL$. */
const username = text(256).nullish();
const customData = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'custom data keys: letters, digits, _ . - (max 64)'), text(1024))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 custom data entries')
  .optional();

const fields = {
  name: name(128),
  description: text(1024).optional(),
  connectionType: z.enum(connectionTypes),
  providerBundleId: bundleId.nullish(),
  server: vpnServer,
  group: text(128).trim().nullish().describe('AnyConnect tunnel group (connection profile)'),
  perApp: z.boolean().optional(),
  onDemandMatchAppEnabled: z.boolean().optional(),
  safariDomains: domainList.optional(),
  associatedDomains: domainList.optional(),
  excludedDomains: domainList.optional(),
  smbDomains: domainList.optional(),
  mailDomains: domainList.optional(),
  calendarDomains: domainList.optional(),
  contactsDomains: domainList.optional(),
  userAuthentication: z
    .enum(VPN_USER_AUTHENTICATIONS)
    .optional()
    .describe('CERTIFICATE and PASSWORD_AND_CERTIFICATE need certificateEnrollmentId'),
  certificateEnrollmentId: intId
    .nullish()
    .describe('The certificate enrollment setting (/configurations/certificate-enrollment) whose identity the VPN authenticates with'),
  username,
  password: z.string().max(256).nullish().describe('Write-only: never returned'),
  providerType: z.enum(['packet-tunnel', 'app-proxy']).nullish(),
  customData,
};

const vpnResult = z
  .object({
    id: z.number(),
    name: z.string(),
    connectionType: z.enum(connectionTypes),
    server: z.string(),
    perApp: z.boolean(),
    vpnUuid: z.string(),
    passwordSet: z.boolean(),
    labelIds: z.array(z.number()).optional(),
  })
  .loose();

export function registerVpnRoutes(t: RouteTable, vpn: VpnService): void {
  const tag = 'VPN configurations';
  t.add({
    method: 'post',
    status: 201,
    path: '/configurations/vpn',
    tag,
    summary: 'Create a VPN configuration (vpnUuid is minted here, once)',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject(fields),
    results: vpnResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await vpn.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: '/configurations/vpn',
    tag,
    summary: 'List VPN configurations (passwords never returned)',
    query: listQuery(['id', 'name', 'connectionType', 'createdAt']),
    results: z.array(vpnResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await vpn.list(actor, query, query.sortField ?? 'id', query.sortOrder === 'DESC' ? 'desc' : 'asc');
      return listEnvelope(results, total, query);
    },
  });
  const params = z.object({ id: intId });
  t.add({
    method: 'get',
    path: '/configurations/vpn/:id',
    tag,
    summary: 'Get a VPN configuration',
    params,
    results: vpnResult,
    handler: async ({ actor, params }) => ({ results: await vpn.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: '/configurations/vpn/:id',
    tag,
    summary: 'Update a VPN configuration (vpnUuid never changes)',
    params,
    echoed: {
      readOnly: ['id', 'vpnUuid', 'labelIds'],
      // passwordSet follows the password: sending a new one changes it
      ignored: ['passwordSet', 'createdAt', 'updatedAt'],
      current: ({ params, actor }) => vpn.get(actor, params.id),
    },
    body: z.strictObject({
      ...fields,
      name: fields.name.optional(),
      connectionType: fields.connectionType.optional(),
      server: fields.server.optional(),
    }),
    results: vpnResult,
    handler: async ({ actor, params, body }) => ({ results: await vpn.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: '/configurations/vpn/:id',
    tag,
    summary: 'Delete a VPN configuration (409 while apps name it explicitly)',
    params,
    handler: async ({ actor, params }) => {
      await vpn.remove(actor, params.id);
      return { results: { id: params.id, deleted: true } };
    },
  });
  const labelParams = z.object({ id: intId, labelId: intId });
  t.add({
    method: 'put',
    path: '/configurations/vpn/:id/labels/:labelId',
    tag,
    summary: 'Apply a VPN configuration to a label',
    params: labelParams,
    results: vpnResult,
    handler: async ({ actor, params }) => ({ results: await vpn.setLabel(actor, params.id, params.labelId, true) }),
  });
  t.add({
    method: 'delete',
    path: '/configurations/vpn/:id/labels/:labelId',
    tag,
    summary: 'Remove a VPN configuration from a label',
    params: labelParams,
    results: vpnResult,
    handler: async ({ actor, params }) => ({ results: await vpn.setLabel(actor, params.id, params.labelId, false) }),
  });
}
