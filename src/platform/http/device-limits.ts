// Body size limits of the device-facing endpoints (no express here: the protocol decoders and
// the OTA attribute parser size their plist limits from these too).

const KiB = 1024;

/** Byte limits per device endpoint. Connect's is the app's deviceBodyLimit (2 MiB by default). */
export const DEVICE_BODY_LIMITS = {
  /** Authenticate, TokenUpdate, CheckOut: a few KB (an UnlockToken is the largest field). */
  checkin: 256 * KiB,
  /** Command results may carry profile, certificate and application lists. */
  connect: 2 * 1024 * KiB,
  /** OTA phase 2: a small attributes plist, CMS-signed with the device's certificate chain. */
  otaProfile: 64 * KiB,
  /** MachineInfo enrollment (POST /mdm/enroll): a small plist, CMS-signed with the device's certificate chain. */
  mdmEnroll: 64 * KiB,
  /** SCEP PKIOperation: a CMS envelope around a CSR. */
  scep: 64 * KiB,
  /** Everything else on the device router (GETs, unknown paths). */
  other: 16 * KiB,
} as const;

/** The byte limit of a device endpoint's body; `connectLimit` overrides the connect default. */
export function deviceBodyLimit(path: string, connectLimit: number = DEVICE_BODY_LIMITS.connect): number {
  switch (path) {
    case '/mdm/checkin':
      return Math.min(DEVICE_BODY_LIMITS.checkin, connectLimit);
    case '/mdm/connect':
    case '/mdm':
      return connectLimit;
    case '/ota/profile':
      return DEVICE_BODY_LIMITS.otaProfile;
    case '/mdm/enroll':
      return DEVICE_BODY_LIMITS.mdmEnroll;
    case '/scep':
      return DEVICE_BODY_LIMITS.scep;
    default:
      return DEVICE_BODY_LIMITS.other;
  }
}
