/**
 * Runs a flat-dispatch WGSL kernel body (the `fn main(index : i32)` form tfjs-backend-webgpu calls,
 * plus helper functions) in JavaScript, one invocation per output element, with WGSL's semantics:
 * i32 arithmetic wraps and divides toward zero, every f32 operation rounds to float32, f32 -> i32
 * saturates. It translates the source itself, so tests check the code the GPU compiles rather than
 * a transcription. It knows the subset resdet's generators emit (one statement per line: let/var,
 * assignment, for, if, continue, return; scalar i32/f32/bool expressions; input arrays, `result`,
 * `uniforms.*Shape` and NAN/INFINITY) and throws on anything else, on a type mismatch, on a read
 * outside an input and on a second write to one output element. Slow by design: small shapes only.
 */

type Type = 'i32' | 'f32' | 'bool';

interface Value {
  js: string;
  type: Type;
  /** An integer literal, which WGSL converts to f32 where the context needs one. */
  abstractInt?: boolean;
}

export interface EmulatorInputs {
  /** Input buffers by variable name: Float32Array for f32, Int32Array for i32. */
  buffers: Record<string, Float32Array | Int32Array>;
  /** Shapes of the inputs by name (for `uniforms.<name>Shape`). */
  shapes: Record<string, number[]>;
}

const TOKEN =
  /\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)|(\d+)|([A-Za-z_][A-Za-z0-9_.]*)|(\|\||&&|==|!=|<=|>=|[-+*/%<>!(),[\]]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`wgsl emulator: cannot read "${src.slice(pos)}"`);
    out.push((m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
    pos = TOKEN.lastIndex;
  }
  return out;
}

const BINARY: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

interface Scope {
  vars: Map<string, Type>;
  buffers: Record<string, Type>;
  fns: Map<string, { params: Type[]; ret: Type }>;
}

function f32Of(v: Value): Value {
  if (v.type === 'f32') return v;
  if (v.abstractInt) return { js: `${Number(v.js.replace(/[()]/g, ''))}`, type: 'f32' };
  throw new Error(`wgsl emulator: ${v.js} is ${v.type}, an f32 is needed`);
}

/** Both operands of one type (an integer literal beside an f32 becomes an f32). */
function unify(a: Value, b: Value): [Value, Value] {
  if (a.type === b.type) return [a, b];
  if (a.type === 'f32' && b.abstractInt) return [a, f32Of(b)];
  if (b.type === 'f32' && a.abstractInt) return [f32Of(a), b];
  throw new Error(`wgsl emulator: type mismatch ${a.type} (${a.js}) vs ${b.type} (${b.js})`);
}

function binary(op: string, x: Value, y: Value): Value {
  if (op === '&&' || op === '||') {
    if (x.type !== 'bool' || y.type !== 'bool') throw new Error(`wgsl emulator: ${op} needs bools`);
    return { js: `(${x.js} ${op} ${y.js})`, type: 'bool' };
  }
  const [a, b] = unify(x, y);
  if (BINARY[op] <= 4) {
    const jsOp = op === '==' ? '===' : op === '!=' ? '!==' : op;
    return { js: `(${a.js} ${jsOp} ${b.js})`, type: 'bool' };
  }
  if (a.type === 'f32') return { js: `Math.fround(${a.js} ${op} ${b.js})`, type: 'f32' };
  if (a.type !== 'i32') throw new Error(`wgsl emulator: ${op} on ${a.type}`);
  const lit = a.abstractInt && b.abstractInt;
  switch (op) {
    case '*':
      return { js: `Math.imul(${a.js}, ${b.js})`, type: 'i32', abstractInt: lit };
    case '/':
      return { js: `idiv(${a.js}, ${b.js})`, type: 'i32', abstractInt: lit };
    case '%':
      return { js: `imod(${a.js}, ${b.js})`, type: 'i32', abstractInt: lit };
    default:
      return { js: `((${a.js} ${op} ${b.js}) | 0)`, type: 'i32', abstractInt: lit };
  }
}

function call(name: string, args: Value[], scope: Scope): Value {
  const one = (t: Type) => {
    if (args.length !== 1) throw new Error(`wgsl emulator: ${name} takes one argument`);
    return t === 'f32' ? f32Of(args[0]) : args[0];
  };
  switch (name) {
    case 'f32': {
      const a = one('i32');
      return a.type === 'f32' ? a : { js: `Math.fround(${a.js})`, type: 'f32' };
    }
    case 'i32': {
      const a = args[0];
      return a.type === 'i32' ? a : { js: `f32ToI32(${f32Of(a).js})`, type: 'i32' };
    }
    case 'floor':
    case 'ceil':
      return { js: `Math.fround(Math.${name}(${one('f32').js}))`, type: 'f32' };
    case 'abs': {
      const a = args[0];
      return a.type === 'f32'
        ? { js: `Math.abs(${a.js})`, type: 'f32' }
        : { js: `(Math.abs(${a.js}) | 0)`, type: 'i32' };
    }
    case 'max':
    case 'min': {
      const [a, b] = unify(args[0], args[1]);
      return { js: `Math.${name}(${a.js}, ${b.js})`, type: a.type };
    }
    case 'clamp': {
      const [a, lo] = unify(args[0], args[1]);
      const [, hi] = unify(a, args[2]);
      return { js: `Math.min(Math.max(${a.js}, ${lo.js}), ${hi.js})`, type: a.type };
    }
    case 'select': {
      const [f, t] = unify(args[0], args[1]);
      if (args[2].type !== 'bool') throw new Error('wgsl emulator: select needs a bool condition');
      return { js: `(${args[2].js} ? ${t.js} : ${f.js})`, type: f.type };
    }
    default: {
      const fn = scope.fns.get(name);
      if (!fn) throw new Error(`wgsl emulator: unknown function ${name}`);
      const js = args.map((a, i) => (fn.params[i] === 'f32' ? f32Of(a).js : a.js));
      return { js: `${name}(${js.join(', ')})`, type: fn.ret };
    }
  }
}

function identifier(name: string, scope: Scope): Value {
  if (name === 'uniforms.NAN') return { js: 'NaN', type: 'f32' };
  if (name === 'uniforms.INFINITY') return { js: 'Infinity', type: 'f32' };
  const shape = /^uniforms\.([A-Za-z0-9]+)Shape\.([xyzw])$/.exec(name);
  if (shape) return { js: `shapeOf(${JSON.stringify(shape[1])}, ${'xyzw'.indexOf(shape[2])})`, type: 'i32' };
  const type = scope.vars.get(name);
  if (!type) throw new Error(`wgsl emulator: unknown name ${name}`);
  return { js: name, type };
}

function parseExpr(tokens: string[], scope: Scope): Value {
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (want?: string) => {
    const t = tokens[pos++];
    if (want !== undefined && t !== want) throw new Error(`wgsl emulator: expected ${want}, got ${t}`);
    return t;
  };
  const primary = (): Value => {
    const t = take();
    if (t === '(') {
      const v = expr(0);
      take(')');
      return v;
    }
    if (t === '-') {
      const v = primary();
      return v.type === 'f32'
        ? { js: `(-${v.js})`, type: 'f32' }
        : { js: `((-${v.js}) | 0)`, type: 'i32', abstractInt: v.abstractInt };
    }
    if (t === '!') {
      const v = primary();
      if (v.type !== 'bool') throw new Error('wgsl emulator: ! needs a bool');
      return { js: `(!${v.js})`, type: 'bool' };
    }
    if (/^\d+\.|^\d+[eE]/.test(t)) return { js: `${Math.fround(Number(t))}`, type: 'f32' };
    if (/^\d+$/.test(t)) return { js: t, type: 'i32', abstractInt: true };
    if (t === 'true' || t === 'false') return { js: t, type: 'bool' };
    if (peek() === '(') {
      take('(');
      const args: Value[] = [];
      while (peek() !== ')') {
        args.push(expr(0));
        if (peek() === ',') take(',');
      }
      take(')');
      return call(t, args, scope);
    }
    if (peek() === '[') {
      take('[');
      const index = expr(0);
      take(']');
      const type = scope.buffers[t];
      if (!type || index.type !== 'i32') throw new Error(`wgsl emulator: bad read ${t}[${index.js}]`);
      return { js: `rd(${JSON.stringify(t)}, ${index.js})`, type };
    }
    return identifier(t, scope);
  };
  const expr = (minPrec: number): Value => {
    let left = primary();
    while (pos < tokens.length && BINARY[peek()] !== undefined && BINARY[peek()] > minPrec) {
      const op = take();
      left = binary(op, left, expr(BINARY[op]));
    }
    return left;
  };
  const v = expr(0);
  if (pos !== tokens.length) throw new Error(`wgsl emulator: trailing ${tokens.slice(pos).join(' ')}`);
  return v;
}

function typeName(t: string): Type {
  if (t === 'i32' || t === 'f32' || t === 'bool') return t;
  throw new Error(`wgsl emulator: unsupported type ${t}`);
}

/** Translates the kernel source to the body of a JavaScript function. */
function translate(source: string, buffers: Record<string, Type>, outType: Type): string {
  const fns = new Map<string, { params: Type[]; ret: Type }>();
  for (const m of source.matchAll(/^fn (\w+)\(([^)]*)\)(?: -> (\w+))? \{$/gm)) {
    const params = m[2].trim() ? m[2].split(',').map((p) => typeName(p.split(':')[1].trim())) : [];
    fns.set(m[1], { params, ret: m[3] ? typeName(m[3]) : 'i32' });
  }
  const scope: Scope = { vars: new Map(), buffers, fns };
  const expr = (s: string) => parseExpr(tokenize(s), scope);
  const cond = (s: string) => {
    const v = expr(s);
    if (v.type !== 'bool') throw new Error(`wgsl emulator: condition ${s} is ${v.type}`);
    return v.js;
  };
  const statements: Array<[RegExp, (m: RegExpExecArray) => string]> = [
    [
      /^fn (\w+)\(([^)]*)\)(?: -> \w+)? \{$/,
      (m) => {
        scope.vars = new Map();
        const names = m[2].trim() ? m[2].split(',').map((p) => p.split(':')[0].trim()) : [];
        const types = fns.get(m[1])?.params ?? [];
        names.forEach((n, i) => {
          scope.vars.set(n, types[i]);
        });
        return `function ${m[1]}(${names.join(', ')}) {`;
      },
    ],
    [
      /^(?:let|var) (\w+) = (.+);$/,
      (m) => {
        const v = expr(m[2]);
        scope.vars.set(m[1], v.type);
        return `let ${m[1]} = ${v.js};`;
      },
    ],
    [
      /^result\[(.+)\] = (.+);$/,
      (m) => {
        const index = expr(m[1]);
        let value = expr(m[2]);
        if (outType === 'f32') value = f32Of(value);
        if (index.type !== 'i32' || value.type !== outType)
          throw new Error(`wgsl emulator: bad store ${m[0]}`);
        return `wr(${index.js}, ${value.js});`;
      },
    ],
    [
      /^(\w+) = (.+);$/,
      (m) => {
        const type = scope.vars.get(m[1]);
        let v = expr(m[2]);
        if (type === 'f32') v = f32Of(v);
        if (v.type !== type) throw new Error(`wgsl emulator: assigning ${v.type} to ${type} ${m[1]}`);
        return `${m[1]} = ${v.js};`;
      },
    ],
    [
      /^for \(var (\w+) = (.+); (.+); \1 = \1 \+ 1\) \{$/,
      (m) => {
        const start = expr(m[2]);
        if (start.type !== 'i32') throw new Error('wgsl emulator: loop counters are i32');
        scope.vars.set(m[1], 'i32');
        return `for (let ${m[1]} = ${start.js}; ${cond(m[3])}; ${m[1]} = (${m[1]} + 1) | 0) {`;
      },
    ],
    [/^if \((.+)\) \{$/, (m) => `if (${cond(m[1])}) {`],
    [/^return (.+);$/, (m) => `return ${expr(m[1]).js};`],
    [/^(\}|continue;|return;)$/, (m) => m[1]],
  ];
  const out: string[] = [];
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '' || line === '_ = uniforms.NAN;') continue;
    const hit = statements.find(([re]) => re.test(line));
    if (!hit) throw new Error(`wgsl emulator: unsupported statement "${line}"`);
    out.push(hit[1](hit[0].exec(line) as RegExpExecArray));
  }
  return out.join('\n');
}

/**
 * Runs `main(index)` for every index below `outputSize` and returns the output buffer. The output
 * starts filled with NaN (f32) or a sentinel (i32) so an element no invocation wrote is visible.
 */
export function emulateFlatKernel(
  source: string,
  inputs: EmulatorInputs,
  outputSize: number,
  outputType: 'f32' | 'i32',
): Float32Array | Int32Array {
  const buffers: Record<string, Type> = {};
  for (const [name, b] of Object.entries(inputs.buffers))
    buffers[name] = b instanceof Int32Array ? 'i32' : 'f32';
  const body = translate(source, buffers, outputType);
  const out =
    outputType === 'f32' ? new Float32Array(outputSize).fill(Number.NaN) : new Int32Array(outputSize);
  const written = new Uint8Array(outputSize);
  const rd = (name: string, i: number): number => {
    const b = inputs.buffers[name];
    if (!Number.isInteger(i) || i < 0 || i >= b.length)
      throw new Error(`wgsl emulator: read ${name}[${i}] outside its ${b.length} elements`);
    return b[i];
  };
  const wr = (i: number, v: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= outputSize)
      throw new Error(`wgsl emulator: write result[${i}] outside its ${outputSize} elements`);
    if (written[i]) throw new Error(`wgsl emulator: result[${i}] written twice`);
    written[i] = 1;
    out[i] = v;
  };
  const shapeOf = (name: string, axis: number): number => {
    const s = inputs.shapes[name];
    if (!s || axis >= s.length) throw new Error(`wgsl emulator: no uniform ${name}Shape[${axis}]`);
    return s[axis];
  };
  const idiv = (a: number, b: number) => (b === 0 ? a : Math.trunc(a / b) | 0);
  const imod = (a: number, b: number) => (b === 0 ? 0 : (a % b) | 0);
  const f32ToI32 = (x: number) =>
    Number.isNaN(x) ? 0 : Math.trunc(Math.min(Math.max(x, -2147483648), 2147483520));
  const run = new Function(
    'rd',
    'wr',
    'shapeOf',
    'idiv',
    'imod',
    'f32ToI32',
    'size',
    `${body}\nfor (let index = 0; index < size; index++) main(index);`,
  );
  run(rd, wr, shapeOf, idiv, imod, f32ToI32, outputSize);
  return out;
}
