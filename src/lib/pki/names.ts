// Reading X.500 Names and ASN.1 character strings from DER (for CSR subjects, recipients, logs).

import { children, content, DerError, expectTag, readOid, TAG, type DerNode } from './der.js';
import { NAME_ATTRIBUTE_SHORT_NAMES } from './oids.js';

const T61_STRING = 0x14;
const UNIVERSAL_STRING = 0x1c;
const BMP_STRING = 0x1e;

/** The text of any ASN.1 string type a DirectoryString or attribute value may use. */
export function readAnyString(node: DerNode): string {
  const bytes = content(node);
  switch (node.tag) {
    case TAG.UTF8_STRING:
      return bytes.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case T61_STRING: // in practice Latin-1
      return bytes.toString('latin1');
    case BMP_STRING: {
      const swapped = Buffer.from(bytes);
      if (swapped.length % 2 !== 0) throw new DerError('odd-length BMPString');
      return swapped.swap16().toString('utf16le');
    }
    case UNIVERSAL_STRING: {
      if (bytes.length % 4 !== 0) throw new DerError('UniversalString length not a multiple of 4');
      let text = '';
      for (let i = 0; i < bytes.length; i += 4) text += String.fromCodePoint(bytes.readUInt32BE(i));
      return text;
    }
    default:
      throw new DerError(`expected a character string, found tag 0x${node.tag.toString(16)}`);
  }
}

export interface NameAttribute {
  oid: string;
  /** CN, O, OU, C, L, ST, DC, UID, serialNumber, emailAddress; undefined for other types. */
  shortName?: string;
  value: string;
}

/** The fields mockiron's certificate builder takes (see SubjectName in src/lib/pki/x509.ts). */
export interface SubjectFields {
  commonName?: string;
  organization?: string;
  organizationalUnit?: string;
  country?: string;
}

export interface ReadName {
  /** Exact DER of the Name. */
  der: Buffer;
  /** Attributes in encoded order (RDN by RDN). */
  attributes: NameAttribute[];
  /** "C=US, O=Example, CN=device", in encoded order like X509Certificate.subject. */
  text: string;
  fields: SubjectFields;
}

export function readName(node: DerNode): ReadName {
  const attributes: NameAttribute[] = [];
  for (const rdn of children(expectTag(node, TAG.SEQUENCE, 'Name'))) {
    for (const atv of children(expectTag(rdn, TAG.SET, 'RelativeDistinguishedName'))) {
      const [type, value] = children(expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'));
      if (!type || !value) throw new DerError('incomplete AttributeTypeAndValue');
      const oid = readOid(type);
      let text: string;
      try {
        text = readAnyString(value);
      } catch {
        text = `#${content(value).toString('hex')}`; // RFC 4514 style for non-string values
      }
      attributes.push({ oid, shortName: NAME_ATTRIBUTE_SHORT_NAMES[oid], value: text });
    }
  }
  const first = (shortName: string) => attributes.find((a) => a.shortName === shortName)?.value;
  const fields: SubjectFields = {};
  const cn = first('CN');
  if (cn !== undefined) fields.commonName = cn;
  const o = first('O');
  if (o !== undefined) fields.organization = o;
  const ou = first('OU');
  if (ou !== undefined) fields.organizationalUnit = ou;
  const c = first('C');
  if (c !== undefined) fields.country = c;
  return {
    der: node.buf.subarray(node.start, node.end),
    attributes,
    text: attributes.map((a) => `${a.shortName ?? a.oid}=${a.value}`).join(', '),
    fields,
  };
}
