// A linear pre-scan of an XML plist before the XML library sees it: nesting depth and value
// count against the limits, and no entity declarations at all (billion laughs needs them, and so
// do external entities), nor references to entities XML does not predefine. A plist needs none.

import { PlistParseError } from './errors.js';
import type { PlistLimits } from './limits.js';

const ENTITY_REFERENCE = /&(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});/y;
const TAG_NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;

function refuse(reason: string): never {
  throw new PlistParseError(`XML plist refused: ${reason}`);
}

function malformed(reason: string): never {
  throw new PlistParseError(`malformed XML plist: ${reason}`);
}

/** Checks every '&' in text between tags; one pointer walks the document once (linear overall). */
function entityChecker(xml: string): (from: number, to: number) => void {
  let next = xml.indexOf('&');
  return (from, to) => {
    if (next !== -1 && next < from) next = xml.indexOf('&', from);
    while (next !== -1 && next < to) {
      ENTITY_REFERENCE.lastIndex = next;
      if (!ENTITY_REFERENCE.test(xml)) refuse('references an entity XML does not predefine');
      next = xml.indexOf('&', next + 1);
    }
  };
}

/** Where the tag opened at `lt` ends (its '>'), skipping quoted attribute values. */
function tagEnd(xml: string, lt: number): number {
  let quote = '';
  for (let i = lt + 1; i < xml.length; i++) {
    const c = xml[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return i;
    } else if (c === '<') {
      malformed('a tag is not closed');
    }
  }
  return malformed('a tag is not closed');
}

/** The '>' that ends a DOCTYPE, or the '[' that opens its internal subset, skipping quoted ids. */
function declarationEnd(xml: string, lt: number): number {
  let quote = '';
  for (let i = lt + 2; i < xml.length; i++) {
    const c = xml[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>' || c === '[') {
      return i;
    }
  }
  return malformed('a DOCTYPE is not closed');
}

/**
 * Throws PlistParseError unless `xml` stays within the limits. Containers (<array>, <dict>) may
 * nest maxDepth deep; any element at most two more (the <plist> wrapper and a leaf inside the
 * deepest container).
 * XML decodes to at most its own length once entities are refused, so its length is its size.
 */
export function scanXmlPlist(xml: string, limits: PlistLimits): void {
  if (xml.length > limits.maxDecodedBytes) refuse(`larger than ${limits.maxDecodedBytes} bytes`);
  const maxElementDepth = limits.maxDepth + 2;
  // Open elements, true where a container: closing tags pop, so container depth is exact
  const open: boolean[] = [];
  let containers = 0;
  let values = 0;
  let i = 0;
  const checkEntities = entityChecker(xml);
  for (;;) {
    const lt = xml.indexOf('<', i);
    checkEntities(i, lt === -1 ? xml.length : lt);
    if (lt === -1) return;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end === -1) malformed('a comment is not closed');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end === -1) malformed('a CDATA section is not closed');
      i = end + 3;
    } else if (xml.startsWith('<?', lt)) {
      const end = xml.indexOf('?>', lt + 2);
      if (end === -1) malformed('a processing instruction is not closed');
      i = end + 2;
    } else if (xml.startsWith('<!', lt)) {
      if (!/^<!DOCTYPE\s/.test(xml.slice(lt, lt + 10))) refuse('markup declarations other than DOCTYPE are not accepted');
      const end = declarationEnd(xml, lt);
      if (xml[end] === '[') refuse('a DOCTYPE with an internal subset (entity declarations) is not accepted');
      i = end + 1;
    } else {
      const end = tagEnd(xml, lt);
      if (xml[lt + 1] === '/') {
        if (open.length === 0) malformed('a closing tag without an opening one');
        if (open.pop()) containers--;
      } else {
        TAG_NAME.lastIndex = lt + 1;
        const name = TAG_NAME.exec(xml)?.[0];
        if (name === undefined) malformed('a tag without a name');
        if (name !== 'key' && name !== 'plist' && ++values > limits.maxObjects) refuse(`more than ${limits.maxObjects} values`);
        const container = name === 'array' || name === 'dict';
        if (container && containers + 1 > limits.maxDepth) refuse(`nested deeper than ${limits.maxDepth} levels`);
        if (xml[end - 1] !== '/') {
          if (open.length + 1 > maxElementDepth) refuse(`nested deeper than ${limits.maxDepth} levels`);
          open.push(container);
          if (container) containers++;
        }
      }
      i = end + 1;
    }
  }
}
