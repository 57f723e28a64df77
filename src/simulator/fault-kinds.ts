// The faults a virtual device can inject, on their own so the CLI can list them in its help
// without loading the device (crypto, the MDM protocol).
export const FAULT_KINDS = ['corrupt-signature', 'replay-challenge', 'truncated-body', 'drop-connection'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
