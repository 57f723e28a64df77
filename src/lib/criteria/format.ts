// Canonical text for a tree: upper-case keywords, lower-case word operators, quoted strings,
// and parentheses only where the tree shape needs them. parseCriteria(formatCriteria(t))
// gives back a tree deep-equal to t.

import type { Ast, ComparisonValue, CriteriaNode } from './ast.js';
import { quoteString } from './lexer.js';

const BARE_FIELD = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const KEYWORDS = new Set(['and', 'or', 'not']);

export function formatCriteria(ast: Ast): string {
  return ast.type === 'all' ? '' : formatNode(ast);
}

function formatNode(node: CriteriaNode): string {
  switch (node.type) {
    case 'comparison': {
      const head = `${formatField(node.field)} ${node.operator}`;
      return node.value === null ? head : `${head} ${formatValue(node.value)}`;
    }
    case 'and':
      // An AND or OR inside an AND needs parentheses: OR binds looser, and a nested AND
      // would otherwise flatten into its parent.
      return node.operands.map((operand) => wrapIf(operand, operand.type === 'and' || operand.type === 'or')).join(' AND ');
    case 'or':
      return node.operands.map((operand) => wrapIf(operand, operand.type === 'or')).join(' OR ');
    case 'not':
      return `NOT ${wrapIf(node.operand, node.operand.type === 'and' || node.operand.type === 'or')}`;
  }
}

function wrapIf(node: CriteriaNode, parenthesize: boolean): string {
  const text = formatNode(node);
  return parenthesize ? `(${text})` : text;
}

export function formatField(name: string): string {
  return BARE_FIELD.test(name) && !KEYWORDS.has(name.toLowerCase()) ? name : quoteString(name);
}

function formatValue(value: ComparisonValue): string {
  if (typeof value === 'string') return quoteString(value);
  return String(value);
}
