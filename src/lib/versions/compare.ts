// Dotted version comparison as Apple and Cisco use it: numeric segment by segment, missing
// segments count as 0 ("9.3" == "9.3.0", "9.10" > "9.9"). Non-numeric segments compare as
// case-insensitive strings after numeric ones, so "1.0b2" style tags still order stably.

export function parseVersion(text: string): Array<number | string> {
  return text
    .trim()
    .split(/[.\-_ ]+/)
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s.toLowerCase()));
}

export function isVersionLike(text: string): boolean {
  return /^\d+(\.\d+)*$/.test(text.trim());
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  return compareParsedVersions(parseVersion(a), parseVersion(b));
}

export function compareParsedVersions(pa: Array<number | string>, pb: Array<number | string>): number {
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
