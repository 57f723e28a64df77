// Hard limits on what decoding one plist may cost. A bplist00 object may be referenced from
// many places, so ~200 bytes of arrays that each reference the next one twice decode to 2^N
// values; XML can nest without end. Both are measured in bounded time before anything is built.

/** How deep containers may nest (Apple's own documents stay well under 20). */
export const MAX_PLIST_DEPTH = 64;
/** How many values (containers, scalars and dictionary keys) one document may decode to. */
export const MAX_PLIST_OBJECTS = 100_000;
/** How many bytes of strings, data and references one document may decode to (binary: after expanding shared references). */
export const MAX_PLIST_DECODED_BYTES = 32 * 1024 * 1024;

export interface PlistLimits {
  maxDepth: number;
  maxObjects: number;
  maxDecodedBytes: number;
}

export const DEFAULT_PLIST_LIMITS: Readonly<PlistLimits> = Object.freeze({
  maxDepth: MAX_PLIST_DEPTH,
  maxObjects: MAX_PLIST_OBJECTS,
  maxDecodedBytes: MAX_PLIST_DECODED_BYTES,
});

/** Limits for a request body of at most `bodyLimit` bytes: it may decode to at most 4× its size. */
export function plistLimitsForBody(bodyLimit: number): PlistLimits {
  return { maxDepth: MAX_PLIST_DEPTH, maxObjects: MAX_PLIST_OBJECTS, maxDecodedBytes: Math.max(64 * 1024, 4 * bodyLimit) };
}
