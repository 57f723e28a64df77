// Shared input rules. Every free-text field has a length cap and no control characters.
import { z } from 'zod';

const controlChars = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !controlChars.test(s), 'must not contain control characters');

export const name = (max = 128) => text(max).trim().min(1, 'must not be empty');

const hostnameRe = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;
const ipv4Re = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A VPN server: host name, IPv4, or [IPv6], optionally with :port and a path (AnyConnect accepts URLs). */
export const vpnServer = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255)
  .refine((s) => {
    const m = /^(?:https?:\/\/)?(\[[0-9a-fA-F:]+\]|[^/:]+)(?::(\d{1,5}))?(\/[A-Za-z0-9._~\-/]*)?$/.exec(s);
    if (!m) return false;
    const host = m[1]!;
    return host.startsWith('[') || hostnameRe.test(host) || ipv4Re.test(host);
  }, 'must be a host name or IP address, optionally with :port');

/** A domain as used in SafariDomains etc.: host-name syntax, optional leading "*." wildcard. */
export const domain = z
  .string()
  .trim()
  .max(253)
  .refine((s) => hostnameRe.test(s.replace(/^\*\./, '')), 'must be a domain name such as example.com or *.example.com');

export const domainList = z.array(domain).max(500).default([]);

/** Reverse-DNS identifier, e.g. com.google.chrome.ios. */
export const bundleId = z
  .string()
  .trim()
  .max(155)
  .regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'must be a reverse-DNS identifier such as com.example.app');

export const uuidParam = z.string().regex(/^[0-9a-fA-F-]{8,64}$/, 'must be a UUID');
export const intId = z.coerce
  .number({ error: 'must be an integer id' })
  .int('must be an integer id')
  .positive('must be a positive id')
  .max(2 ** 31 - 1);
