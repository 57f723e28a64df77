// Apple MDM wire protocol: check-in and command-result decoding, command building, Mdm-Signature.
export * from './errors.js';
export * from './checkin.js';
export * from './results.js';
export * from './commands.js';
export * from './command-schemas.js';
export * from './signature.js';
