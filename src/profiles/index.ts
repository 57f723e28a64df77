// Public surface of the profiles capability: the file loading of Apple's schemas and reading a
// (possibly signed) .mobileconfig. The pure builders, lint and spec parsing are src/lib/profiles.
export { loadProfileSchemas, VENDORED_PROFILE_SCHEMA_DIR } from './schema-loader.js';
export { ProfileReadError, readProfileBytes, type ReadProfile } from './read-profile.js';
export { SignedContentError, extractSignedContent, type SignedContent } from './signed-content.js';
export { type DeviceProfileService, vpnProfileIdentifier } from './service.js';
