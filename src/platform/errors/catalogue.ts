// The one catalogue of errors a user can meet: a stable code → its kind and the message key
// clients see. Adapters turn the kind into an HTTP status, a device answer or a CLI exit code
// (src/platform/http/errors.ts, src/platform/cli/errors.ts); docs/errors.md lists this table.

export const errorKinds = [
  'validation',
  'unauthenticated',
  'forbidden',
  'not-found',
  'conflict',
  'gone',
  'payload-too-large',
  'unsupported-media-type',
  'too-many-requests',
  'unavailable',
  'internal',
] as const;
export type ErrorKind = (typeof errorKinds)[number];

/** Core's message key form; used where the condition is one of MobileIron Core's. */
export const CORE_KEY_PREFIX = 'com.mobileiron.vsp.messages.';
/** mockiron's one documented form for conditions Core does not have. */
export const MOCKIRON_KEY_PREFIX = 'com.mockiron.messages.';

/**
 * Whose condition the key names: `core` — a condition of Core's API, in Core's form;
 * `mockiron` — ours, in our form; `mockiron-legacy` — ours, but clients have always seen it
 * under Core's form, so the key stays as it is (nothing a user sees changes).
 */
export type KeyOrigin = 'core' | 'mockiron' | 'mockiron-legacy';

export interface CatalogueEntry {
  kind: ErrorKind;
  messageKey: string;
  origin: KeyOrigin;
}

const core = (kind: ErrorKind, key: string) => ({ kind, messageKey: CORE_KEY_PREFIX + key, origin: 'core' as const });
const ours = (kind: ErrorKind, key: string) => ({ kind, messageKey: MOCKIRON_KEY_PREFIX + key, origin: 'mockiron' as const });
const legacy = (kind: ErrorKind, key: string) => ({ kind, messageKey: CORE_KEY_PREFIX + key, origin: 'mockiron-legacy' as const });

/** The criteria parser's keys (src/lib/criteria), answered under Core's form. */
const criteria = {
  'criteria.tooLong': core('validation', 'criteria.too_long'),
  'criteria.tooDeep': core('validation', 'criteria.too_deep'),
  'criteria.unterminatedString': core('validation', 'criteria.unterminated_string'),
  'criteria.unknownField': core('validation', 'criteria.unknown_field'),
  'criteria.invalidCustomAttribute': core('validation', 'criteria.invalid_custom_attribute'),
  'criteria.expectedField': core('validation', 'criteria.expected_field'),
  'criteria.missingOperator': core('validation', 'criteria.missing_operator'),
  'criteria.unknownOperator': core('validation', 'criteria.unknown_operator'),
  'criteria.operatorNotAllowed': core('validation', 'criteria.operator_not_allowed'),
  'criteria.missingValue': core('validation', 'criteria.missing_value'),
  'criteria.badValue': core('validation', 'criteria.bad_value'),
  'criteria.unclosedParenthesis': core('validation', 'criteria.unclosed_parenthesis'),
  'criteria.unmatchedParenthesis': core('validation', 'criteria.unmatched_parenthesis'),
  'criteria.emptyParentheses': core('validation', 'criteria.empty_parentheses'),
  'criteria.trailingGarbage': core('validation', 'criteria.trailing_garbage'),
} as const;

export const errorCatalogue = {
  // requests in general
  'request.invalid': core('validation', 'validation'),
  'request.malformedJson': core('validation', 'json'),
  'request.notUtf8': core('validation', 'encoding'),
  'request.tooLarge': core('payload-too-large', 'http.413'),
  'request.unsupportedMediaType': core('unsupported-media-type', 'http.415'),
  'request.noSuchEndpoint': core('not-found', 'http.404'),
  'resource.notFound': core('not-found', 'http.404'),
  'resource.duplicate': core('conflict', 'duplicate'),
  'resource.referenced': core('conflict', 'referenced'),
  'server.unavailable': core('unavailable', 'http.503'),
  'server.internal': core('internal', 'http.500'),
  // who is asking
  'auth.unauthenticated': core('unauthenticated', 'http.401'),
  'auth.forbidden': core('forbidden', 'http.403'),
  'auth.tooManyAttempts': core('too-many-requests', 'http.429'),
  // capabilities
  'admin.duplicate': core('conflict', 'admin.duplicate'),
  'admin.lastAdmin': core('conflict', 'admin.lastAdmin'),
  'user.duplicate': core('conflict', 'user.duplicate'),
  'user.hasDevices': core('conflict', 'user.hasDevices'),
  'device.duplicate': core('conflict', 'device.duplicate'),
  'device.csv': core('validation', 'csv'),
  'device.csvTooLarge': core('payload-too-large', 'csv'),
  'device.csvRow': core('validation', 'csv.row'),
  'device.platformNotEnrollable': core('validation', 'platform'),
  'device.importBusy': ours('too-many-requests', 'device.importBusy'),
  'label.duplicate': core('conflict', 'label.duplicate'),
  'label.system': core('conflict', 'label.system'),
  'label.notManual': core('validation', 'label.notManual'),
  ...criteria,
  'app.duplicate': core('conflict', 'app.duplicate'),
  'anyconnect.duplicate': legacy('conflict', 'anyconnect.duplicate'),
  'anyconnect.inUse': legacy('conflict', 'anyconnect.inUse'),
  'anyconnect.perappDecode': legacy('validation', 'anyconnect.perappDecode'),
  'anyconnect.asaParse': legacy('validation', 'anyconnect.asaParse'),
  'anyconnect.asaImport': legacy('validation', 'anyconnect.asaImport'),
  'anyconnect.clientCertificate': ours('validation', 'anyconnect.clientCertificate'),
  'mdm.command': ours('validation', 'mdm.command'),
  'mdm.notQueued': ours('conflict', 'mdm.notQueued'),
  // the MDM push certificate (APNs)
  'apns.certificateInvalid': ours('validation', 'apns.certificateInvalid'),
  'apns.topicMismatch': ours('conflict', 'apns.topicMismatch'),
  'vpn.duplicate': legacy('conflict', 'vpn.duplicate'),
  'vpn.inUse': legacy('conflict', 'vpn.inUse'),
  'profile.certificateAuth': ours('conflict', 'profile.certificateAuth'),
  'certenrollment.duplicate': ours('conflict', 'certenrollment.duplicate'),
  'certenrollment.inUse': ours('conflict', 'certenrollment.inUse'),
  'profile.noVpn': ours('not-found', 'profile.noVpn'),
  'scep.unavailable': ours('unavailable', 'scep.unavailable'),
  // an admin asks for a challenge while SCEP cannot issue: a 409 under Core's form, as always
  'scep.challengeUnavailable': legacy('conflict', 'scep.unavailable'),
  'secrets.undecryptable': ours('internal', 'secrets.undecryptable'),
  // OTA enrollment: device endpoints answer these in plain text (the key is for logs and docs)
  'enrollment.invitationUnknown': ours('not-found', 'enrollment.invitationUnknown'),
  'enrollment.invitationSpent': ours('gone', 'enrollment.invitationSpent'),
  'enrollment.attributesUnsigned': ours('validation', 'enrollment.attributesUnsigned'),
  'enrollment.attributesInvalid': ours('validation', 'enrollment.attributesInvalid'),
  'enrollment.challengeRefused': ours('forbidden', 'enrollment.challengeRefused'),
  'enrollment.udidTaken': ours('conflict', 'enrollment.udidTaken'),
  'enrollment.caUnavailable': ours('unavailable', 'enrollment.caUnavailable'),
  'enrollment.deviceUnknown': ours('forbidden', 'enrollment.deviceUnknown'),
  'enrollment.serialAmbiguous': ours('conflict', 'enrollment.serialAmbiguous'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCatalogue, code);
}
