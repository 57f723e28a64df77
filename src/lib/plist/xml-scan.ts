// The linear pre-scan that used to run before the `plist` package now happens inside the one-pass
// reader (xml.ts): reading a document checks its depth, value count, size and entities.

import type { PlistLimits } from './limits.js';
import { readXmlPlist } from './xml.js';

/** Throws PlistParseError unless `xml` is a plist within the limits (see readXmlPlist). */
export function scanXmlPlist(xml: string, limits: PlistLimits): void {
  readXmlPlist(xml, limits);
}
