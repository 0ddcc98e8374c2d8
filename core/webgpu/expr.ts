/**
 * A tiny integer expression language for kernel index math. Every index formula and bounds check
 * of the WGSL kernels is built once as an `Expr` tree; the generator prints it as WGSL and the
 * JavaScript emulator evaluates the very same tree, so the emulator tests the formulas the GPU
 * runs rather than a transcription of them.
 *
 * Values are i32 (booleans for comparisons). Division and remainder truncate toward zero, as in
 * WGSL and as `Math.trunc` / `%` do in JavaScript. Each node carries an interval of the values
 * it can take, which the builders use to fold checks that always hold (a `valid` convolution
 * needs no bounds checks, a 1x1 filter no filter-index division).
 */

export type IntOp = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min';
export type CmpOp = 'lt' | 'ge';

export type Expr =
  | { kind: 'const'; value: number; lo: number; hi: number }
  | { kind: 'var'; name: string; lo: number; hi: number }
  | { kind: 'int'; op: IntOp; a: Expr; b: Expr; lo: number; hi: number }
  | { kind: 'cmp'; op: CmpOp; a: Expr; b: Expr; lo: number; hi: number }
  | { kind: 'and'; a: Expr; b: Expr; lo: number; hi: number };

const BIG = 2 ** 31 - 1;

export function lit(value: number): Expr {
  if (!Number.isInteger(value)) throw new Error(`expr: ${value} is not an integer`);
  return { kind: 'const', value, lo: value, hi: value };
}

/** A named i32 whose value lies in [lo, hi] wherever the expression is evaluated. */
export function v(name: string, lo = -BIG, hi = BIG): Expr {
  return { kind: 'var', name, lo, hi };
}

const TRUE = lit(1);
const FALSE = lit(0);

function asExpr(e: Expr | number): Expr {
  return typeof e === 'number' ? lit(e) : e;
}

function isConst(e: Expr, value?: number): boolean {
  return e.kind === 'const' && (value === undefined || e.value === value);
}

export function add(x: Expr | number, y: Expr | number): Expr {
  const a = asExpr(x);
  const b = asExpr(y);
  if (isConst(a, 0)) return b;
  if (isConst(b, 0)) return a;
  if (a.kind === 'const' && b.kind === 'const') return lit(a.value + b.value);
  return { kind: 'int', op: 'add', a, b, lo: a.lo + b.lo, hi: a.hi + b.hi };
}

export function sub(x: Expr | number, y: Expr | number): Expr {
  const a = asExpr(x);
  const b = asExpr(y);
  if (isConst(b, 0)) return a;
  if (a.kind === 'const' && b.kind === 'const') return lit(a.value - b.value);
  return { kind: 'int', op: 'sub', a, b, lo: a.lo - b.hi, hi: a.hi - b.lo };
}

export function mul(x: Expr | number, y: Expr | number): Expr {
  const a = asExpr(x);
  const b = asExpr(y);
  if (isConst(a, 0) || isConst(b, 0)) return lit(0);
  if (isConst(a, 1)) return b;
  if (isConst(b, 1)) return a;
  if (a.kind === 'const' && b.kind === 'const') return lit(a.value * b.value);
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  return { kind: 'int', op: 'mul', a, b, lo: Math.min(...p), hi: Math.max(...p) };
}

/** Truncating division by a positive constant. */
export function div(x: Expr | number, d: number): Expr {
  const a = asExpr(x);
  if (!Number.isInteger(d) || d <= 0) throw new Error(`expr: division by ${d}`);
  if (d === 1) return a;
  if (a.kind === 'const') return lit(Math.trunc(a.value / d));
  if (a.lo >= 0 && a.hi < d) return lit(0);
  return { kind: 'int', op: 'div', a, b: lit(d), lo: Math.trunc(a.lo / d), hi: Math.trunc(a.hi / d) };
}

/** Truncating remainder by a positive constant (sign of the dividend, as WGSL's `%`). */
export function mod(x: Expr | number, d: number): Expr {
  const a = asExpr(x);
  if (!Number.isInteger(d) || d <= 0) throw new Error(`expr: remainder by ${d}`);
  if (d === 1) return lit(0);
  if (a.kind === 'const') return lit(a.value % d);
  if (a.lo >= 0 && a.hi < d) return a;
  const lo = a.lo < 0 ? -(d - 1) : 0;
  const hi = a.hi > 0 ? d - 1 : 0;
  return { kind: 'int', op: 'mod', a, b: lit(d), lo, hi };
}

export function min(x: Expr | number, y: Expr | number): Expr {
  const a = asExpr(x);
  const b = asExpr(y);
  if (a.hi <= b.lo) return a;
  if (b.hi <= a.lo) return b;
  return { kind: 'int', op: 'min', a, b, lo: Math.min(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
}

/** a < b, folded to a constant when the intervals decide it. */
export function lt(x: Expr | number, y: Expr | number): Expr {
  const a = asExpr(x);
  const b = asExpr(y);
  if (a.hi < b.lo) return TRUE;
  if (a.lo >= b.hi) return FALSE;
  return { kind: 'cmp', op: 'lt', a, b, lo: 0, hi: 1 };
}

/** a >= b, folded to a constant when the intervals decide it. */
export function ge(x: Expr | number, y: Expr | number): Expr {
  const a = asExpr(x);
  const b = asExpr(y);
  if (a.lo >= b.hi) return TRUE;
  if (a.hi < b.lo) return FALSE;
  return { kind: 'cmp', op: 'ge', a, b, lo: 0, hi: 1 };
}

/** Conjunction of conditions; constant-true terms drop out. */
export function and(...terms: Expr[]): Expr {
  let out: Expr = TRUE;
  for (const t of terms) {
    if (isConst(t, 0) || isConst(out, 0)) return FALSE;
    if (isConst(t, 1)) continue;
    out = isConst(out, 1) ? t : { kind: 'and', a: out, b: t, lo: 0, hi: 1 };
  }
  return out;
}

/** True when the condition is known to hold everywhere (the check can be left out). */
export function alwaysTrue(e: Expr): boolean {
  return isConst(e, 1);
}

/** Tightens a value's interval: the caller guarantees it (e.g. inside an `if (m < M)` branch). */
export function assume(e: Expr, lo: number, hi: number): Expr {
  const nlo = Math.max(e.lo, lo);
  const nhi = Math.min(e.hi, hi);
  if (e.kind === 'const') return e;
  return { ...e, lo: nlo, hi: nhi } as Expr;
}

const WGSL_OPS: Record<IntOp | CmpOp, string> = {
  add: '+',
  sub: '-',
  mul: '*',
  div: '/',
  mod: '%',
  min: 'min',
  lt: '<',
  ge: '>=',
};

/** WGSL source of an expression (fully parenthesised; i32 literals, bools for conditions). */
export function toWgsl(e: Expr): string {
  switch (e.kind) {
    case 'const':
      return e.value < 0 ? `(${e.value})` : `${e.value}`;
    case 'var':
      return e.name;
    case 'int':
      if (e.op === 'min') return `min(${toWgsl(e.a)}, ${toWgsl(e.b)})`;
      return `(${toWgsl(e.a)} ${WGSL_OPS[e.op]} ${toWgsl(e.b)})`;
    case 'cmp':
      return `(${toWgsl(e.a)} ${WGSL_OPS[e.op]} ${toWgsl(e.b)})`;
    case 'and':
      return `(${toWgsl(e.a)} && ${toWgsl(e.b)})`;
  }
}

/** WGSL for a condition: constants become `true` / `false`. */
export function condToWgsl(e: Expr): string {
  if (e.kind === 'const') return e.value ? 'true' : 'false';
  return toWgsl(e);
}

export type Env = Record<string, number>;

/** Evaluates with WGSL's i32 semantics (conditions give 1 or 0). */
export function evaluate(e: Expr, env: Env): number {
  switch (e.kind) {
    case 'const':
      return e.value;
    case 'var': {
      const value = env[e.name];
      if (value === undefined) throw new Error(`expr: variable ${e.name} is not bound`);
      return value;
    }
    case 'int': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      switch (e.op) {
        case 'add':
          return (a + b) | 0;
        case 'sub':
          return (a - b) | 0;
        case 'mul':
          return Math.imul(a, b);
        case 'div':
          return Math.trunc(a / b);
        case 'mod':
          return a % b;
        case 'min':
          return Math.min(a, b);
      }
      break;
    }
    case 'cmp': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      return (e.op === 'lt' ? a < b : a >= b) ? 1 : 0;
    }
    case 'and':
      return evaluate(e.a, env) && evaluate(e.b, env) ? 1 : 0;
  }
  throw new Error('expr: unknown node');
}

/** A named intermediate value: printed as `let name = ...;`, bound in order by the emulator. */
export type Let = readonly [name: string, value: Expr];

export function letsToWgsl(lets: readonly Let[], indent: string): string {
  return lets.map(([name, e]) => `${indent}let ${name} = ${toWgsl(e)};`).join('\n');
}

export function bindLets(lets: readonly Let[], env: Env): void {
  for (const [name, e] of lets) env[name] = evaluate(e, env);
}

/**
 * The same semantics as `evaluate`, compiled once to a JavaScript function: the emulator runs
 * every formula millions of times. Generated from the tree, so it cannot drift from it.
 */
export type Compiled = (env: Env) => number;

function toJs(e: Expr): string {
  switch (e.kind) {
    case 'const':
      return `(${e.value})`;
    case 'var':
      return `env[${JSON.stringify(e.name)}]`;
    case 'int': {
      const a = toJs(e.a);
      const b = toJs(e.b);
      switch (e.op) {
        case 'add':
          return `((${a} + ${b}) | 0)`;
        case 'sub':
          return `((${a} - ${b}) | 0)`;
        case 'mul':
          return `Math.imul(${a}, ${b})`;
        case 'div':
          return `Math.trunc(${a} / ${b})`;
        case 'mod':
          return `(${a} % ${b})`;
        case 'min':
          return `Math.min(${a}, ${b})`;
      }
      break;
    }
    case 'cmp':
      return `(${toJs(e.a)} ${e.op === 'lt' ? '<' : '>='} ${toJs(e.b)} ? 1 : 0)`;
    case 'and':
      return `(${toJs(e.a)} && ${toJs(e.b)} ? 1 : 0)`;
  }
  throw new Error('expr: unknown node');
}

export function compile(e: Expr): Compiled {
  return new Function('env', `return ${toJs(e)};`) as Compiled;
}

export function compileLets(lets: readonly Let[]): (env: Env) => void {
  const body = lets.map(([name, e]) => `env[${JSON.stringify(name)}] = ${toJs(e)};`).join('\n');
  return new Function('env', body) as (env: Env) => void;
}
