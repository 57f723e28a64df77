// The MobileIron criteria language: filter-label criteria and device search expressions like
//   common.platform = "iOS" AND common.os_version >= "9.3" AND common.model contains "iPad"
// Pure module: parse, format, compile to a predicate over DeviceFacts, list the fields.

import type { Ast, CriteriaNode } from './ast.js';

export { parseCriteria, DEFAULT_MAX_LENGTH, MAX_NESTING, type ParseOptions } from './parser.js';
export { compileCriteria, type CriteriaPredicate } from './compile.js';
export { formatCriteria } from './format.js';
export { CriteriaError, type CriteriaErrorKey } from './errors.js';
export {
  searchFields,
  builtInFields,
  lookupField,
  suggestFieldName,
  sortableFields,
  fieldReader,
  FREE_TEXT_FIELDS,
  CUSTOM_ATTRIBUTE_NAME,
  type FieldDefinition,
  type FieldFill,
  type FieldReader,
  type FieldSort,
  DEVICE_STATUSES,
  PLATFORMS,
  OWNERSHIP_TYPES,
  CUSTOM_DEVICE_PREFIX,
  type DeviceFacts,
  type DeviceStatus,
  type FieldType,
  type SearchField,
} from './fields.js';
export {
  OPERATORS_BY_TYPE,
  ALL_OPERATORS,
  type Ast,
  type CriteriaNode,
  type ComparisonNode,
  type AndNode,
  type OrNode,
  type NotNode,
  type MatchAllNode,
  type Operator,
  type ComparisonValue,
} from './ast.js';

/**
 * Canonical names of the fields an expression reads, in order of first use. A device change
 * that touches none of them cannot change whether the device matches.
 */
export function referencedFields(ast: Ast): string[] {
  const names = new Set<string>();
  const visit = (node: CriteriaNode): void => {
    switch (node.type) {
      case 'comparison':
        names.add(node.field);
        return;
      case 'not':
        visit(node.operand);
        return;
      case 'and':
      case 'or':
        node.operands.forEach(visit);
    }
  };
  if (ast.type !== 'all') visit(ast);
  return [...names];
}
