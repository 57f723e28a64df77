// The npm `mobileconfig` package's getSignedConfig (jsrsasign) on the same plist and identity,
// against our signer.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { toXmlPlist } from '../src/lib/plist/index.js';
import { signCms } from '../src/lib/pki/cms.js';
import { createSigningIdentity } from '../src/signing/identity.js';
import type { BenchRow } from './signing.js';

const require = createRequire(import.meta.url);

export async function benchPeer(): Promise<BenchRow[]> {
  const mobileconfig = require('mobileconfig') as {
    getSignedConfig(data: object, keys: { key: string; cert: string; ca?: string[] }, cb: (err: Error | null, out: Buffer) => void): void;
  };
  const { identity } = createSigningIdentity({ keyType: 'rsa' });
  const keys = {
    key: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: identity.certificate.toString(),
    ca: [identity.trustAnchor.toString()],
  };
  const data = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.bench',
    PayloadUUID: '5E0C1B5A-2D3B-4A6C-9E1F-0A1B2C3D4E5F',
    PayloadDisplayName: 'Benchmark VPN',
    PayloadContent: Array.from({ length: 5 }, (_, i) => ({
      PayloadType: 'com.apple.vpn.managed.applayer',
      PayloadVersion: 1,
      PayloadIdentifier: `com.example.vpn.${i}`,
      PayloadUUID: `0000000${i}-1111-2222-3333-444444444444`,
      VPNUUID: `0000000${i}-AAAA-BBBB-CCCC-DDDDDDDDDDDD`,
      SafariDomains: ['example.com'],
    })),
  };
  const peerOnce = () =>
    new Promise<Buffer>((resolve, reject) => mobileconfig.getSignedConfig(data, keys, (err, out) => (err ? reject(err) : resolve(out))));
  await peerOnce();
  let n = 0;
  let start = performance.now();
  while (performance.now() - start < 2000) {
    await peerOnce();
    n++;
  }
  const peerRate = n / ((performance.now() - start) / 1000);
  const content = Buffer.from(toXmlPlist(data));
  n = 0;
  start = performance.now();
  while (performance.now() - start < 1000) {
    signCms(content, identity);
    n++;
  }
  const ours = n / ((performance.now() - start) / 1000);
  return [
    { name: 'mobileconfig (npm) getSignedConfig, same plist', value: Math.round(peerRate * 10) / 10, unit: 'profiles/s' },
    {
      name: 'mockiron signCms vs mobileconfig (target >= 50)',
      value: Math.round(ours),
      unit: 'profiles/s',
      baseline: Math.round(peerRate * 10) / 10,
      ratio: Math.round((ours / peerRate) * 10) / 10,
    },
  ];
}
