export { PlistReal, isPlistDict, plistToJson, plistTypeOf } from './types.js';
export type { PlistDict, PlistScalar, PlistTypeName, PlistValue } from './types.js';
export { PlistWriteError, toXmlPlist } from './write.js';
export { PlistParseError, detectPlistFormat, parsePlist } from './parse.js';
export type { PlistFormat } from './parse.js';
export { DEFAULT_PLIST_LIMITS, MAX_PLIST_DECODED_BYTES, MAX_PLIST_DEPTH, MAX_PLIST_OBJECTS, plistLimitsForBody } from './limits.js';
export type { PlistLimits } from './limits.js';
