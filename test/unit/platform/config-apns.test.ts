// Where pushes go once a push certificate is uploaded: Apple's production host by default, its
// development (sandbox) host on request, or another HTTPS origin (a stand-in). Hosts as Apple's
// "Sending notification requests to APNs" names them.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.js';

describe('apnsUrl', () => {
  it("is Apple's production host by default, the sandbox for development", () => {
    expect(loadConfig({}, {}).apnsUrl).toBe('https://api.push.apple.com');
    expect(loadConfig({}, { MOCKIRON_APNS_ENVIRONMENT: 'Development' }).apnsUrl).toBe('https://api.sandbox.push.apple.com');
    expect(loadConfig({ apnsEnvironment: 'production' }, { MOCKIRON_APNS_ENVIRONMENT: 'development' }).apnsUrl).toBe(
      'https://api.push.apple.com',
    );
  });

  it('takes another https origin (the flag over the environment), and refuses anything else', () => {
    expect(loadConfig({}, { MOCKIRON_APNS_URL: 'https://127.0.0.1:2197/' }).apnsUrl).toBe('https://127.0.0.1:2197');
    expect(loadConfig({ apnsUrl: 'https://stand-in:443' }, { MOCKIRON_APNS_URL: 'https://other' }).apnsUrl).toBe('https://stand-in');
    expect(() => loadConfig({}, { MOCKIRON_APNS_URL: 'http://127.0.0.1:2197' })).toThrow(/APNs is HTTPS/);
    expect(() => loadConfig({}, { MOCKIRON_APNS_URL: 'not a url' })).toThrow(/invalid APNs URL/);
    expect(() => loadConfig({}, { MOCKIRON_APNS_ENVIRONMENT: 'staging' })).toThrow(/production or development/);
  });

  it('reads the trust anchors file name from the environment', () => {
    expect(loadConfig({}, {}).apnsCaFile).toBeUndefined();
    expect(loadConfig({}, { MOCKIRON_APNS_CA_FILE: '/tmp/ca.pem' }).apnsCaFile).toBe('/tmp/ca.pem');
  });
});
