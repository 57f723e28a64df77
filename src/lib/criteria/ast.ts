// Syntax tree of a criteria expression. Nodes carry no source positions, so a tree built by
// hand, a parsed tree and a re-parsed formatted tree compare deep-equal.

import type { FieldType } from './fields.js';

export const COMPARISON_OPERATORS = ['=', '!=', '<', '<=', '>', '>='] as const;
export const TEXT_OPERATORS = ['contains', 'starts with', 'does not contain'] as const;
export const EMPTINESS_OPERATORS = ['is empty', 'is not empty'] as const;

export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export type TextOperator = (typeof TEXT_OPERATORS)[number];
export type EmptinessOperator = (typeof EMPTINESS_OPERATORS)[number];
export type BinaryOperator = ComparisonOperator | TextOperator;
export type Operator = BinaryOperator | EmptinessOperator;

export const ALL_OPERATORS: readonly Operator[] = [...COMPARISON_OPERATORS, ...TEXT_OPERATORS, ...EMPTINESS_OPERATORS];

/** Operators each field type accepts. Every type accepts the emptiness tests. */
export const OPERATORS_BY_TYPE: Readonly<Record<FieldType, readonly Operator[]>> = {
  string: ALL_OPERATORS,
  version: ALL_OPERATORS,
  number: [...COMPARISON_OPERATORS, ...EMPTINESS_OPERATORS],
  date: [...COMPARISON_OPERATORS, ...EMPTINESS_OPERATORS],
  enum: ['=', '!=', ...EMPTINESS_OPERATORS],
  boolean: ['=', '!=', ...EMPTINESS_OPERATORS],
};

export function isEmptinessOperator(operator: Operator): operator is EmptinessOperator {
  return operator === 'is empty' || operator === 'is not empty';
}

/**
 * The value of a comparison, already typed for its field: numbers for number fields, booleans
 * for boolean fields, the canonical spelling for enums, and the text as written for string,
 * version and date fields. `null` for `is empty` / `is not empty`.
 */
export type ComparisonValue = string | number | boolean;

export interface MatchAllNode {
  /** Empty criteria: matches every device. Only ever the whole tree. */
  type: 'all';
}

export interface ComparisonNode {
  type: 'comparison';
  /** Canonical field name, e.g. "common.os_version" or "custom.device.costCenter". */
  field: string;
  operator: Operator;
  value: ComparisonValue | null;
}

export interface AndNode {
  type: 'and';
  /** At least two operands. `a AND b AND c` is one node; `(a AND b) AND c` nests. */
  operands: CriteriaNode[];
}

export interface OrNode {
  type: 'or';
  operands: CriteriaNode[];
}

export interface NotNode {
  type: 'not';
  operand: CriteriaNode;
}

export type CriteriaNode = ComparisonNode | AndNode | OrNode | NotNode;
export type Ast = MatchAllNode | CriteriaNode;
