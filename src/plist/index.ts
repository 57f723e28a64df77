export { PlistReal, isPlistDict, plistToJson, plistTypeOf } from './types.js';
export type { PlistDict, PlistScalar, PlistTypeName, PlistValue } from './types.js';
export { PlistWriteError, toXmlPlist } from './write.js';
export { PlistParseError, detectPlistFormat, parsePlist } from './parse.js';
export type { PlistFormat } from './parse.js';
