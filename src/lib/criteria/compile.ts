// Compiles a criteria tree to a predicate. The tree becomes the source of one JavaScript
// function, so evaluation is plain property reads and comparisons that V8 can optimise, with
// no per-device walking of the tree. Everything about the constants is worked out once here:
// strings are lower-cased, versions split into segments, dates turned into epoch ranges.
//
// Generated code only ever contains: field-read expressions from the registry, operators,
// temporaries, finite number literals and references to constants passed in by value. No text
// from the criteria is spliced into the source.

import { compareParsedVersions, parseVersion } from '../versions/compare.js';
import { isEmptinessOperator, type Ast, type ComparisonNode, type CriteriaNode } from './ast.js';
import { lookupField, type DeviceFacts, type FieldDefinition } from './fields.js';
import { formatCriteria } from './format.js';
import { parseCriteria, type ParseOptions } from './parser.js';
import { parseDateValue } from './values.js';

export type CriteriaPredicate = (facts: DeviceFacts) => boolean;

const matchEveryDevice: CriteriaPredicate = () => true;

/**
 * Parses (if given text) and compiles criteria. A tree is re-checked by formatting and parsing
 * it again, so a hand-built tree gets the same validation, with columns into its canonical text.
 */
export function compileCriteria(criteria: string | Ast, options: ParseOptions = {}): CriteriaPredicate {
  const ast =
    typeof criteria === 'string'
      ? parseCriteria(criteria, options)
      : parseCriteria(formatCriteria(criteria), { maxLength: Number.POSITIVE_INFINITY });
  if (ast.type === 'all') return matchEveryDevice;

  const generator = new CodeGenerator();
  const expression = generator.node(ast);
  return generator.build(expression);
}

/** Device OS versions repeat a lot, so parsing each distinct one once pays off. */
const parsedVersionCache = new Map<string, Array<number | string>>();
const VERSION_CACHE_LIMIT = 10_000;

function parsedVersion(text: string): Array<number | string> {
  let parsed = parsedVersionCache.get(text);
  if (parsed === undefined) {
    if (parsedVersionCache.size >= VERSION_CACHE_LIMIT) parsedVersionCache.clear();
    parsed = parseVersion(text);
    parsedVersionCache.set(text, parsed);
  }
  return parsed;
}

const SYMBOL_TO_JS: Record<string, string> = { '=': '===', '!=': '!==', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

class CodeGenerator {
  private readonly constants: unknown[] = [];
  private temporaries = 0;
  private readonly versionOf = this.constant(parsedVersion);
  private readonly compareVersions = this.constant(compareParsedVersions);

  node(node: CriteriaNode): string {
    switch (node.type) {
      case 'comparison':
        return this.comparison(node);
      case 'and':
        return `(${node.operands.map((operand) => this.node(operand)).join(' && ')})`;
      case 'or':
        return `(${node.operands.map((operand) => this.node(operand)).join(' || ')})`;
      case 'not':
        return `!${this.node(node.operand)}`;
    }
  }

  build(expression: string): CriteriaPredicate {
    const constantNames = this.constants.map((_, i) => `k${i}`);
    const temporaryNames = Array.from({ length: this.temporaries }, (_, i) => `t${i}`);
    const source = [
      '"use strict";',
      constantNames.length > 0 ? `const [${constantNames.join(', ')}] = constants;` : '',
      'return function matchesCriteria(f) {',
      temporaryNames.length > 0 ? `  let ${temporaryNames.join(', ')};` : '',
      `  return ${expression};`,
      '};',
    ].join('\n');
    const factory = new Function('constants', source) as (constants: unknown[]) => CriteriaPredicate;
    return factory(this.constants);
  }

  private comparison(node: ComparisonNode): string {
    const lookup = lookupField(node.field);
    if (lookup.kind !== 'builtin' && lookup.kind !== 'custom') throw new Error(`unchecked field ${node.field}`);
    const field = lookup.definition;
    const read =
      lookup.kind === 'custom' ? `${this.constant(readCustomAttribute)}(f.custom, ${this.constant(lookup.attribute)})` : field.source;
    const value = this.temporary();
    const { present, operand } = this.presence(field, value, read);

    if (node.operator === 'is empty') return `!(${present})`;
    if (node.operator === 'is not empty') return `(${present})`;
    return `(${present} && ${this.test(field, node, operand)})`;
  }

  /** An expression that reads the field into a temporary and is true when it has a value. */
  private presence(field: FieldDefinition, value: string, read: string): { present: string; operand: string } {
    switch (field.type) {
      case 'string':
      case 'enum':
      case 'version':
        return { present: `typeof (${value} = ${read}) === 'string' && ${value} !== ''`, operand: value };
      case 'number':
        return { present: `typeof (${value} = ${read}) === 'number' && ${value} === ${value}`, operand: value };
      case 'boolean':
        return { present: `typeof (${value} = ${read}) === 'boolean'`, operand: value };
      case 'date': {
        const time = this.temporary();
        // An invalid Date has a NaN time, which counts as missing.
        return {
          present: `(${value} = ${read}) instanceof Date && (${time} = ${value}.getTime()) === ${time}`,
          operand: time,
        };
      }
    }
  }

  /** The comparison proper, for a value already known to be present. */
  private test(field: FieldDefinition, node: ComparisonNode, v: string): string {
    const { operator, value } = node;
    if (value === null || isEmptinessOperator(operator)) throw new Error('emptiness handled by the caller');

    if (operator === 'contains' || operator === 'starts with' || operator === 'does not contain') {
      const needle = this.constant(String(value).toLowerCase());
      if (operator === 'contains') return `${v}.toLowerCase().includes(${needle})`;
      if (operator === 'starts with') return `${v}.toLowerCase().startsWith(${needle})`;
      return `!${v}.toLowerCase().includes(${needle})`;
    }

    const js = SYMBOL_TO_JS[operator]!;
    switch (field.type) {
      case 'string':
      case 'enum': {
        const lower = this.constant(String(value).toLowerCase());
        // Most values are stored in the spelling the criteria uses, so try the exact match
        // before paying for toLowerCase.
        const exact = this.constant(String(value));
        if (operator === '=') return `(${v} === ${exact} || ${v}.toLowerCase() === ${lower})`;
        if (operator === '!=') return `(${v} !== ${exact} && ${v}.toLowerCase() !== ${lower})`;
        return `${v}.toLowerCase() ${js} ${lower}`;
      }
      case 'version': {
        const wanted = this.constant(parseVersion(String(value)));
        return `${this.compareVersions}(${this.versionOf}(${v}), ${wanted}) ${js} 0`;
      }
      case 'number':
        return `${v} ${js} ${numberLiteral(Number(value))}`;
      case 'boolean':
        return `${v} ${js} ${value === true}`;
      case 'date': {
        const range = parseDateValue(String(value));
        if (!range) throw new Error(`unchecked date ${String(value)}`);
        const start = numberLiteral(range.start);
        const end = numberLiteral(range.end);
        switch (operator) {
          case '=':
            return `(${v} >= ${start} && ${v} < ${end})`;
          case '!=':
            return `(${v} < ${start} || ${v} >= ${end})`;
          case '<':
            return `${v} < ${start}`;
          case '<=':
            return `${v} < ${end}`;
          case '>':
            return `${v} >= ${end}`;
          case '>=':
            return `${v} >= ${start}`;
        }
      }
    }
  }

  private constant(value: unknown): string {
    this.constants.push(value);
    return `k${this.constants.length - 1}`;
  }

  private temporary(): string {
    return `t${this.temporaries++}`;
  }
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`non-finite number ${value}`);
  return `(${String(value)})`;
}

/**
 * A device's custom attribute by name: the exact name first, else the one name that differs only
 * in case — `custom.device.costcenter` finds `costCenter` instead of silently matching nothing.
 * Own properties only: a name such as `constructor` is not the prototype's.
 */
export function readCustomAttribute(custom: Readonly<Record<string, string>>, name: string): string | undefined {
  if (Object.hasOwn(custom, name)) return custom[name];
  const lower = name.toLowerCase();
  let found: string | undefined;
  for (const key of Object.keys(custom)) {
    if (key.toLowerCase() !== lower) continue;
    if (found !== undefined) return undefined; // two spellings differ only in case: neither is the one meant
    found = key;
  }
  return found === undefined ? undefined : custom[found];
}
