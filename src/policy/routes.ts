import { z } from 'zod';
import type { RouteTable } from '../platform/http/route.js';
import { uuidParam } from '../platform/http/validators.js';
import { PolicyService } from './service.js';

const policyResult = z.object({
  deviceUuid: z.string(),
  labels: z.array(z.object({ id: z.number(), name: z.string(), isStatic: z.boolean(), isSystem: z.boolean() })),
  vpnConfigurations: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      vpnUuid: z.string(),
      perApp: z.boolean(),
      connectionType: z.string(),
      server: z.string(),
    }),
  ),
  apps: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      bundleId: z.string(),
      vpnUuid: z.string().nullable(),
      vpnConfigurationId: z.number().nullable(),
      reason: z.string(),
    }),
  ),
  warnings: z.array(z.string()),
});

export function registerPolicyRoutes(t: RouteTable, policy: PolicyService): void {
  t.add({
    method: 'get',
    path: '/devices/:uuid/policy',
    tag: 'Policy',
    summary:
      'What reaches a device: its labels, VPN configurations, apps and the per-app VPN each app is bound to (vpnUuid null: must not tunnel)',
    params: z.object({ uuid: uuidParam }),
    results: policyResult,
    handler: async ({ actor, params }) => ({ results: PolicyService.view(await policy.forDevice(actor, params.uuid)) }),
  });
}
