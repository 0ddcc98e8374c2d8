import { ResdetError } from './errors.js';
import type { SafeTensor } from './safetensors.js';

/**
 * A strict reader for Python pickles (protocols 2-5) that hold numpy arrays inside plain
 * containers: detectron2's model-zoo `.pkl` files. A pickle is a program for a stack machine that
 * may name and call any importable Python callable; this reader executes nothing. It knows the
 * container opcodes, and of the callables only the few that rebuild numpy arrays (and bytes, and
 * an OrderedDict); any other name is refused when it appears, before anything uses it.
 */

/** A numpy array as read: C-order values, float64 already narrowed to float32 when asked. */
export interface NumpyArray {
  readonly kind: 'ndarray';
  /** numpy's dtype as written in the file ('<f4', '<f2', '<f8', '<i8', ...). */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Little-endian C-order bytes of the values, in `dtype`. */
  readonly bytes: Uint8Array;
}

/** A Python dict; keys as read (str, int or bool; strings as JS strings). */
export class PyDict {
  readonly entries = new Map<PyKey, PyValue>();
}

export type PyKey = string | number | bigint | boolean | null;

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | NumpyArray
  | PyDict
  | PyList
  | PyTuple;

/** A list and a tuple are both JS arrays; the wrapper keeps which one it was. */
export interface PyList {
  readonly kind: 'list';
  readonly items: PyValue[];
}
export interface PyTuple {
  readonly kind: 'tuple';
  readonly items: PyValue[];
}

/** The callables a pickle may name: each rebuilds data, none has a side effect. */
const ALLOWED_GLOBALS = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.ndarray',
  'numpy.dtype',
  '_codecs.encode',
  'builtins.bytes',
  '__builtin__.bytes',
  'builtins.bytearray',
  '__builtin__.bytearray',
  'collections.OrderedDict',
]);

/** A callable named by GLOBAL/STACK_GLOBAL: only ever a whitelisted name. */
interface PyGlobal {
  readonly kind: 'global';
  readonly name: string;
}

/** numpy's dtype object between its REDUCE and BUILD. */
interface PyDtype {
  readonly kind: 'dtype';
  code: string;
  endian: string;
}

/** An ndarray between `_reconstruct` and its BUILD, which fills shape, dtype and bytes. */
interface PendingArray {
  readonly kind: 'pending-array';
  built?: NumpyArray;
}

type StackItem = PyValue | PyGlobal | PyDtype | PendingArray | typeof MARK;

const MARK: unique symbol = Symbol('mark');

export class PickleError extends ResdetError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'PickleError';
  }
}

/** Element sizes of the dtypes an array may have. */
const DTYPE_SIZES: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, b1: 1 };

const OPCODE_NAMES: Record<number, string> = {
  128: 'PROTO',
  149: 'FRAME',
  46: 'STOP',
  125: 'EMPTY_DICT',
  93: 'EMPTY_LIST',
  41: 'EMPTY_TUPLE',
  40: 'MARK',
  100: 'DICT',
  108: 'LIST',
  116: 'TUPLE',
  133: 'TUPLE1',
  134: 'TUPLE2',
  135: 'TUPLE3',
  115: 'SETITEM',
  117: 'SETITEMS',
  97: 'APPEND',
  101: 'APPENDS',
  113: 'BINPUT',
  114: 'LONG_BINPUT',
  148: 'MEMOIZE',
  104: 'BINGET',
  106: 'LONG_BINGET',
  74: 'BININT',
  75: 'BININT1',
  77: 'BININT2',
  138: 'LONG1',
  139: 'LONG4',
  71: 'BINFLOAT',
  88: 'BINUNICODE',
  140: 'SHORT_BINUNICODE',
  141: 'BINUNICODE8',
  84: 'BINSTRING',
  85: 'SHORT_BINSTRING',
  66: 'BINBYTES',
  67: 'SHORT_BINBYTES',
  142: 'BINBYTES8',
  150: 'BYTEARRAY8',
  78: 'NONE',
  136: 'NEWTRUE',
  137: 'NEWFALSE',
  99: 'GLOBAL',
  147: 'STACK_GLOBAL',
  82: 'REDUCE',
  98: 'BUILD',
};

function describeOpcode(op: number): string {
  const name = OPCODE_NAMES[op];
  const printable = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return `${name ?? 'unknown opcode'} (0x${op.toString(16).padStart(2, '0')}${printable})`;
}

function isObject(
  v: StackItem,
): v is Exclude<StackItem, typeof MARK | null | boolean | number | bigint | string> {
  return typeof v === 'object' && v !== null;
}

function typeName(v: StackItem): string {
  if (v === MARK) return 'a MARK';
  if (v === null) return 'None';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int/float';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyDict) return 'dict';
  switch (v.kind) {
    case 'global':
      return `callable ${v.name}`;
    case 'pending-array':
      return 'an unfinished numpy array';
    default:
      return v.kind;
  }
}

/** Latin-1 string -> bytes (what `_codecs.encode(s, 'latin1')` does); refuses wider characters. */
function latin1Bytes(s: string, where: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new PickleError(`${where}: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

/**
 * Reads a pickle. `label` names the file in errors. Returns the unpickled value; numpy arrays are
 * `NumpyArray`s holding their C-order little-endian bytes.
 */
export function readPickle(buf: Uint8Array, label = 'pickle'): PyValue {
  return new Unpickler(buf, label).run();
}

class Unpickler {
  private pos = 0;
  private readonly stack: StackItem[] = [];
  private readonly memo = new Map<number, StackItem>();
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private op = 0;
  private opPos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly label: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private fail(why: string, hint?: string): never {
    throw new PickleError(`${this.label}: ${why} (byte ${this.opPos}, ${describeOpcode(this.op)})`, hint);
  }

  private need(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.buf.length)
      this.fail(
        `truncated: ${n} more bytes needed, ${this.buf.length - this.pos} left`,
        'the file is incomplete: download it again',
      );
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.buf[this.need(1)];
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private u64(): number {
    const at = this.need(8);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} is too large`);
    return Number(v);
  }
  private bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.slice(at, at + n);
  }
  private text(n: number): string {
    const at = this.need(n);
    try {
      return this.utf8.decode(this.buf.subarray(at, at + n));
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }
  private line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated: unterminated name line');
    const at = this.need(end - this.pos + 1);
    let s = '';
    for (let i = at; i < end; i++) s += String.fromCharCode(this.buf[i]);
    return s;
  }

  private push(v: StackItem): void {
    this.stack.push(v);
  }
  private pop(): StackItem {
    if (this.stack.length === 0) this.fail('stack underflow: the stream is malformed');
    return this.stack.pop() as StackItem;
  }
  private top(): StackItem {
    if (this.stack.length === 0) this.fail('stack underflow: the stream is malformed');
    return this.stack[this.stack.length - 1];
  }
  /** Items above the topmost MARK, removed with the mark. */
  private popMark(): StackItem[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) this.fail('no MARK on the stack: the stream is malformed');
    const items = this.stack.splice(at);
    items.shift();
    return items;
  }
  private value(v: StackItem, what: string): PyValue {
    if (v === MARK || (isObject(v) && 'kind' in v && (v.kind === 'global' || v.kind === 'dtype')))
      this.fail(`${what} is ${typeName(v)}, not data`);
    if (isObject(v) && 'kind' in v && v.kind === 'pending-array') {
      if (!v.built) this.fail(`${what} is a numpy array that was never filled (no BUILD)`);
      return v.built;
    }
    return v as PyValue;
  }

  /** The result with every array finished; anything that is not data (a callable, a dtype) is refused. */
  private finalize(v: StackItem, seen: Set<object>): PyValue {
    const clean = this.value(v, 'the pickled object');
    if (!isObject(clean) || clean instanceof Uint8Array || seen.has(clean)) return clean;
    seen.add(clean);
    if (clean instanceof PyDict) {
      for (const [k, item] of clean.entries) clean.entries.set(k, this.finalize(item, seen));
    } else if (clean.kind === 'list' || clean.kind === 'tuple') {
      for (let i = 0; i < clean.items.length; i++) clean.items[i] = this.finalize(clean.items[i], seen);
    }
    return clean;
  }

  private global(module: string, name: string): PyGlobal {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full))
      this.fail(
        `pickle names callable ${full}; only numpy arrays are allowed`,
        'this is not a plain weights file: it could run code when opened with Python, so it is refused',
      );
    return { kind: 'global', name: full };
  }

  private setItems(target: StackItem, items: StackItem[]): void {
    if (!(target instanceof PyDict)) this.fail(`SETITEM(S) on ${typeName(target)}, not a dict`);
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const key = this.value(items[i], 'a dict key');
      if (isObject(key as StackItem))
        this.fail(`a dict key is ${typeName(key as StackItem)}; only str/int keys are read`);
      target.entries.set(key as PyKey, this.value(items[i + 1], 'a dict value'));
    }
  }

  private reduce(fn: StackItem, args: StackItem): StackItem {
    if (!(isObject(fn) && 'kind' in fn && fn.kind === 'global'))
      this.fail(`REDUCE calls ${typeName(fn)}; only whitelisted numpy callables may be called`);
    if (!(isObject(args) && 'kind' in args && args.kind === 'tuple'))
      this.fail(`REDUCE arguments are ${typeName(args)}, not a tuple`);
    const a = args.items;
    switch (fn.name) {
      case 'numpy.core.multiarray._reconstruct':
      case 'numpy._core.multiarray._reconstruct': {
        const cls = a[0] as StackItem;
        if (!(isObject(cls) && 'kind' in cls && cls.kind === 'global' && cls.name === 'numpy.ndarray'))
          this.fail(`_reconstruct of ${typeName(cls)}; only numpy.ndarray is allowed`);
        return { kind: 'pending-array' };
      }
      case 'numpy.dtype': {
        const code = a[0];
        if (typeof code !== 'string') this.fail('numpy.dtype with a non-string type code');
        const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(code);
        if (!m) this.fail(`numpy dtype "${code}" is not a plain numeric type`);
        return { kind: 'dtype', code: `${m[2]}${m[3]}`, endian: m[1] || '|' };
      }
      case '_codecs.encode': {
        if (typeof a[0] !== 'string' || (a[1] !== 'latin1' && a[1] !== 'latin-1'))
          this.fail('_codecs.encode other than (str, "latin1")');
        return latin1Bytes(a[0], this.label);
      }
      case 'builtins.bytes':
      case '__builtin__.bytes':
      case 'builtins.bytearray':
      case '__builtin__.bytearray': {
        if (a.length === 0) return new Uint8Array(0);
        if (a[0] instanceof Uint8Array) return a[0];
        if (typeof a[0] === 'string' && (a[1] === 'latin1' || a[1] === 'latin-1'))
          return latin1Bytes(a[0], this.label);
        return this.fail(`${fn.name} with unsupported arguments`);
      }
      case 'collections.OrderedDict':
        if (a.length !== 0) this.fail('OrderedDict with constructor arguments');
        return new PyDict();
      case 'numpy.core.numeric._frombuffer':
      case 'numpy._core.numeric._frombuffer': {
        // protocol 5: (buffer, dtype, shape, order)
        const [data, dtype, shape, order] = a as StackItem[];
        if (!(data instanceof Uint8Array)) this.fail('_frombuffer without a byte buffer');
        return this.makeArray(dtype, shape, order === 'F', data);
      }
      default:
        return this.fail(`REDUCE of ${fn.name}, which is not callable here`);
    }
  }

  private shapeOf(v: StackItem): number[] {
    if (!(isObject(v) && 'kind' in v && v.kind === 'tuple'))
      this.fail(`array shape is ${typeName(v)}, not a tuple`);
    return v.items.map((d) => {
      const n = typeof d === 'bigint' ? Number(d) : d;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
        this.fail('array shape holds a non-integer');
      return n;
    });
  }

  private makeArray(
    dtypeItem: StackItem,
    shapeItem: StackItem,
    fortran: boolean,
    raw: Uint8Array,
  ): NumpyArray {
    if (!(isObject(dtypeItem) && 'kind' in dtypeItem && dtypeItem.kind === 'dtype'))
      this.fail(`array dtype is ${typeName(dtypeItem)}`);
    const { code, endian } = dtypeItem;
    const size = DTYPE_SIZES[code];
    if (!size) this.fail(`numpy dtype ${code} is not supported (float16/32/64 and integers are)`);
    const shape = this.shapeOf(shapeItem);
    const count = shape.reduce((p, d) => p * d, 1);
    if (raw.length !== count * size)
      this.fail(
        `array of shape [${shape.join(', ')}] ${code} needs ${count * size} bytes, the file holds ${raw.length}`,
      );
    let bytes: Uint8Array = raw.slice();
    if (endian === '>' && size > 1) {
      for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
    }
    if (fortran && shape.length > 1) bytes = fortranToC(bytes, shape, size);
    return { kind: 'ndarray', dtype: `<${code}`, shape, bytes };
  }

  private build(target: StackItem, state: StackItem): void {
    if (isObject(target) && 'kind' in target && target.kind === 'dtype') {
      // (version, endian, subarray, names, fields, elsize, alignment, flags)
      if (!(isObject(state) && 'kind' in state && state.kind === 'tuple'))
        this.fail('dtype state is not a tuple');
      const endian = state.items[1];
      if (typeof endian === 'string') target.endian = endian;
      if (state.items[3] !== null && state.items[3] !== undefined)
        this.fail('structured numpy dtypes are not supported');
      return;
    }
    if (isObject(target) && 'kind' in target && target.kind === 'pending-array') {
      if (target.built) this.fail('a numpy array is built twice');
      if (!(isObject(state) && 'kind' in state && state.kind === 'tuple') || state.items.length !== 5)
        this.fail('numpy array state is not (version, shape, dtype, fortran, data)');
      const [, shape, dtype, fortran, data] = state.items as StackItem[];
      let raw: Uint8Array;
      if (data instanceof Uint8Array) raw = data;
      else if (typeof data === 'string') raw = latin1Bytes(data, this.label);
      else raw = this.fail(`numpy array data is ${typeName(data)} (object arrays are refused)`);
      target.built = this.makeArray(dtype, shape, fortran === true, raw);
      return;
    }
    if (target instanceof PyDict && state instanceof PyDict) {
      for (const [k, v] of state.entries) target.entries.set(k, v);
      return;
    }
    this.fail(`BUILD on ${typeName(target)}; only numpy arrays and dtypes are built`);
  }

  run(): PyValue {
    const buf = this.buf;
    if (buf.length < 2 || buf[0] !== 0x80)
      throw new PickleError(
        `${this.label}: not a pickle of protocol 2 or later (it does not start with PROTO)`,
        'give a .pkl file written by Python pickle (detectron2 model zoo files are)',
      );
    for (;;) {
      if (this.pos >= buf.length) {
        this.opPos = this.pos;
        this.fail('truncated: the stream ends before STOP', 'the file is incomplete: download it again');
      }
      this.opPos = this.pos;
      const op = this.u8();
      this.op = op;
      switch (op) {
        case 0x80: {
          const p = this.u8();
          if (p < 2 || p > 5) this.fail(`pickle protocol ${p} is not supported (2-5 are)`);
          break;
        }
        case 0x95:
          this.u64(); // frame length: frames are only a buffering hint
          break;
        case 0x2e: {
          const result = this.finalize(this.pop(), new Set());
          if (this.stack.length !== 0) this.fail('items left on the stack at STOP: the stream is malformed');
          if (this.pos !== buf.length) this.fail(`${buf.length - this.pos} bytes after STOP`);
          return result;
        }
        case 0x7d:
          this.push(new PyDict());
          break;
        case 0x5d:
          this.push({ kind: 'list', items: [] });
          break;
        case 0x29:
          this.push({ kind: 'tuple', items: [] });
          break;
        case 0x28:
          this.push(MARK);
          break;
        case 0x64: {
          const d = new PyDict();
          this.setItems(d, this.popMark());
          this.push(d);
          break;
        }
        case 0x6c:
          this.push({ kind: 'list', items: this.popMark().map((v) => this.value(v, 'a list item')) });
          break;
        case 0x74:
          this.push({ kind: 'tuple', items: this.popMark() as PyValue[] });
          break;
        case 0x85:
        case 0x86:
        case 0x87: {
          const n = op - 0x84;
          const items: StackItem[] = [];
          for (let i = 0; i < n; i++) items.unshift(this.pop());
          if (items.includes(MARK)) this.fail('a MARK inside a tuple');
          this.push({ kind: 'tuple', items: items as PyValue[] });
          break;
        }
        case 0x73: {
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case 0x75: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case 0x61:
        case 0x65: {
          const items = op === 0x61 ? [this.pop()] : this.popMark();
          const list = this.top();
          if (!(isObject(list) && 'kind' in list && list.kind === 'list'))
            this.fail(`APPEND to ${typeName(list)}`);
          for (const v of items) list.items.push(this.value(v as StackItem, 'a list item'));
          break;
        }
        case 0x71:
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72:
          this.memo.set(this.u32(), this.top());
          break;
        case 0x94:
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x68:
        case 0x6a: {
          const key = op === 0x68 ? this.u8() : this.u32();
          if (!this.memo.has(key)) this.fail(`memo entry ${key} was never stored`);
          this.push(this.memo.get(key) as StackItem);
          break;
        }
        case 0x4a:
          this.push(this.view.getInt32(this.need(4), true));
          break;
        case 0x4b:
          this.push(this.u8());
          break;
        case 0x4d:
          this.push(this.u16());
          break;
        case 0x8a:
        case 0x8b: {
          const n = op === 0x8a ? this.u8() : this.u32();
          const b = this.bytes(n);
          let v = 0n;
          for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
          if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
          this.push(
            v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v,
          );
          break;
        }
        case 0x47:
          this.push(this.view.getFloat64(this.need(8), false));
          break;
        case 0x58:
          this.push(this.text(this.u32()));
          break;
        case 0x8c:
          this.push(this.text(this.u8()));
          break;
        case 0x8d:
          this.push(this.text(this.u64()));
          break;
        case 0x54:
        case 0x55: {
          // Python 2 str: latin-1 text (numpy's own loader uses encoding='latin1' for these).
          const n = op === 0x55 ? this.u8() : this.view.getInt32(this.need(4), true);
          if (n < 0) this.fail('negative string length');
          const b = this.bytes(n);
          let s = '';
          for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
          this.push(s);
          break;
        }
        case 0x42:
          this.push(this.bytes(this.u32()));
          break;
        case 0x43:
          this.push(this.bytes(this.u8()));
          break;
        case 0x8e:
        case 0x96:
          this.push(this.bytes(this.u64()));
          break;
        case 0x4e:
          this.push(null);
          break;
        case 0x88:
          this.push(true);
          break;
        case 0x89:
          this.push(false);
          break;
        case 0x63: {
          const module = this.line();
          const name = this.line();
          this.push(this.global(module, name));
          break;
        }
        case 0x93: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string')
            this.fail('STACK_GLOBAL without two names');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: {
          const args = this.pop();
          const fn = this.pop();
          this.push(this.reduce(fn, args));
          break;
        }
        case 0x62: {
          const state = this.pop();
          this.build(this.top(), state);
          break;
        }
        default:
          this.fail(
            'opcode not allowed in a weights pickle',
            'only containers, numbers, strings, bytes and numpy arrays are read',
          );
      }
    }
  }
}

/** Fortran-order bytes -> C order. */
function fortranToC(src: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const out = new Uint8Array(src.length);
  const n = shape.length;
  const count = src.length / size;
  // Fortran strides (elements): first axis fastest.
  const fStride = new Array<number>(n);
  fStride[0] = 1;
  for (let d = 1; d < n; d++) fStride[d] = fStride[d - 1] * shape[d - 1];
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < count; c++) {
    let f = 0;
    for (let d = 0; d < n; d++) f += idx[d] * fStride[d];
    out.set(src.subarray(f * size, f * size + size), c * size);
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** A numpy array as a safetensors-style tensor: F32, F16 or I64; float64 is narrowed to F32. */
export function numpyToTensor(a: NumpyArray, name: string): { tensor: SafeTensor; narrowed: boolean } {
  const count = a.shape.reduce((p, d) => p * d, 1);
  const copy = (bytes: Uint8Array) =>
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (a.dtype) {
    case '<f4':
      return {
        tensor: { dtype: 'F32', shape: a.shape, data: new Float32Array(copy(a.bytes)) },
        narrowed: false,
      };
    case '<f2':
      return {
        tensor: { dtype: 'F16', shape: a.shape, data: new Uint16Array(copy(a.bytes)) },
        narrowed: false,
      };
    case '<f8': {
      const f64 = new Float64Array(copy(a.bytes));
      return { tensor: { dtype: 'F32', shape: a.shape, data: Float32Array.from(f64) }, narrowed: true };
    }
    case '<i8':
      return {
        tensor: { dtype: 'I64', shape: a.shape, data: new BigInt64Array(copy(a.bytes), 0, count) },
        narrowed: false,
      };
    default:
      throw new PickleError(
        `${name}: numpy dtype ${a.dtype.slice(1)} is not a weight type`,
        'weights must be float32, float16, float64 or int64 arrays',
      );
  }
}
