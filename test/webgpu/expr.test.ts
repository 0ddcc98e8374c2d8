import { describe, expect, it } from 'vitest';
import {
  add,
  and,
  compile,
  div,
  type Expr,
  evaluate,
  ge,
  lit,
  lt,
  min,
  mod,
  mul,
  sub,
  toWgsl,
  v,
} from '../../core/webgpu/expr.js';

describe('index expressions', () => {
  it('truncate division and remainder toward zero, as WGSL i32 does', () => {
    const a = v('a');
    expect(evaluate(div(a, 4), { a: -7 })).toBe(-1);
    expect(evaluate(mod(a, 4), { a: -7 })).toBe(-3);
    expect(evaluate(div(a, 4), { a: 7 })).toBe(1);
    expect(toWgsl(sub(mod(a, 4), 3))).toBe('((a % 4) - 3)');
  });

  it('fold only what the intervals decide', () => {
    const r = v('r', 0, 8); // e.g. a row index below 9 = 3*3 (kh, kw) for one channel
    expect(div(r, 9)).toEqual(lit(0));
    expect(mod(r, 9)).toBe(r);
    expect(ge(sub(mul(v('oh', 0, 3), 2), 0), 0)).toEqual(lit(1));
    expect(lt(mul(v('oh', 0, 3), 2), 7)).toEqual(lit(1));
    expect(lt(mul(v('oh', 0, 3), 2), 6).kind).toBe('cmp');
    expect(and(lit(1), lt(v('x', 0, 9), 5), lit(1)).kind).toBe('cmp');
    expect(and(lt(v('x', 0, 9), 5), lit(0))).toEqual(lit(0));
  });

  it('compiled JavaScript agrees with the tree on random values, negatives included', () => {
    const x = v('x', -50, 50);
    const y = v('y', -50, 50);
    const exprs: Expr[] = [
      add(mul(x, 3), sub(y, 7)),
      div(sub(x, y), 3),
      mod(add(x, 11), 4),
      min(add(x, 5), y),
      and(ge(x, 0), lt(mod(x, 2), 1), lt(div(x, 2), 9)),
    ];
    let s = 12345;
    for (const e of exprs) {
      const f = compile(e);
      for (let i = 0; i < 200; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const env = { x: (s % 101) - 50, y: ((s >>> 8) % 101) - 50 };
        expect(f(env), `${toWgsl(e)} at ${JSON.stringify(env)}`).toBe(evaluate(e, env));
        const value = evaluate(e, env);
        // The interval each node carries must contain every value it takes.
        expect(value).toBeGreaterThanOrEqual(e.lo);
        expect(value).toBeLessThanOrEqual(e.hi);
      }
    }
  });
});
