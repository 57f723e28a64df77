export { DomainError, type ErrorDetail } from './domain-error.js';
export {
  CORE_KEY_PREFIX,
  MOCKIRON_KEY_PREFIX,
  errorCatalogue,
  errorKinds,
  isErrorCode,
  type CatalogueEntry,
  type ErrorCode,
  type ErrorKind,
  type KeyOrigin,
} from './catalogue.js';
