import { z } from 'zod';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { uuidParam } from '../platform/http/validators.js';
import type { DeviceProfileService } from './service.js';

export function registerProfileRoutes(t: RouteTable, profiles: DeviceProfileService): void {
  t.add({
    method: 'get', path: '/devices/:uuid/profiles/vpn', tag: 'Profiles',
    summary: 'The signed VPN profile for a device (every VPN configuration reaching it); ?signed=false for the XML plist',
    params: z.object({ uuid: uuidParam }),
    query: z.object({ signed: z.enum(['true', 'false']).default('true') }),
    responseMediaType: ['application/x-apple-aspen-config', 'application/x-plist'], otherResponses: { 304: 'Not modified (If-None-Match named the current ETag)' },
    handler: async ({ actor, params, query, req }) => {
      const profile = await profiles.forDevice(actor, params.uuid);
      const signed = query.signed === 'true';
      const etag = `"${profile.hash.slice(0, 32)}${signed ? '-s' : ''}"`;
      const headers = {
        ETag: etag,
        'Cache-Control': 'private, no-cache',
        'Content-Disposition': `attachment; filename="vpn-${params.uuid}${signed ? '' : '.unsigned'}.mobileconfig"`,
      };
      if (req.headers['if-none-match'] === etag) return new Reply(304, undefined, headers);
      return signed
        ? new Reply(200, profiles.signed(profile), { ...headers, 'Content-Type': 'application/x-apple-aspen-config' })
        : new Reply(200, profile.xml, { ...headers, 'Content-Type': 'application/x-plist; charset=utf-8' });
    },
  });
}
