/**
 * Incremental JSON reader for COCO-sized files: a COCO train2017 instances file is 448 MB, too
 * close to V8's string limit to read as one string and JSON.parse. This tokenizer walks the
 * bytes of fs.createReadStream chunks, cuts the top-level value into pieces (each member of the
 * top-level object, and each element of a top-level array or of an array member) and
 * JSON.parses each piece on its own. Only one element's bytes are held at a time.
 *
 * It works on bytes, not decoded text: every JSON structural character is ASCII and UTF-8
 * continuation bytes are >= 0x80, so a chunk boundary inside a multi-byte character, a string
 * or a number is harmless (pieces are concatenated before decoding).
 */
import { createReadStream } from 'node:fs';
import { ResdetError } from '../../core/errors.js';

export interface JsonStreamHandlers {
  /** A member of the top-level object that is not streamed element by element. */
  onValue?(key: string, value: unknown): void;
  /** An element of a streamed array: `key` is null for a top-level array. */
  onElement(key: string | null, value: unknown, index: number): void;
  /** Called when a streamed array starts (lets the caller pre-size or reset state). */
  onArrayStart?(key: string | null): void;
}

export interface JsonStreamOptions {
  /** Read size in bytes (default 1 MiB); tests use tiny sizes to put boundaries everywhere. */
  chunkSize?: number;
  /**
   * Which array members of the top-level object to stream element by element (default: all
   * arrays). Others are parsed whole and given to onValue.
   */
  streamKeys?: ReadonlySet<string>;
}

enum S {
  RootStart,
  ObjKeyOrEnd,
  ObjKey,
  ObjColon,
  ObjValue,
  ObjComma,
  ArrElemOrEnd,
  ArrElem,
  ArrComma,
  Capture,
  Done,
}

enum Cap {
  Container,
  String,
  Scalar,
}

enum After {
  Key,
  Value,
  Element,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16)}`;
}

/** The resumable state machine; feed it chunks, then call end(). */
export class JsonStreamParser {
  private state = S.RootStart;
  private rootIsArray = false;
  private key: string | null = null;
  private arrayKey: string | null = null;
  private arrayIndex = 0;
  private inArray = false;
  private capKind = Cap.Scalar;
  private capAfter = After.Value;
  private capDepth = 0;
  private capInStr = false;
  private capEsc = false;
  private capStartOffset = 0;
  private pieces: Buffer[] = [];
  private offset = 0;

  constructor(
    private readonly source: string,
    private readonly handlers: JsonStreamHandlers,
    private readonly streamKeys?: ReadonlySet<string>,
  ) {}

  private fail(problem: string, at: number): never {
    throw new ResdetError(
      `${this.source}: malformed JSON at byte ${at}: ${problem}`,
      'check that the file is complete (not truncated) and valid JSON',
    );
  }

  private startCapture(kind: Cap, after: After, i: number): void {
    this.capKind = kind;
    this.capAfter = after;
    this.capDepth = 0;
    this.capInStr = false;
    this.capEsc = false;
    this.pieces = [];
    this.capStartOffset = this.offset + i;
    this.state = S.Capture;
  }

  private where(): string {
    if (this.capAfter === After.Element) {
      const name = this.arrayKey === null ? '' : this.arrayKey;
      return `${name}[${this.arrayIndex}]`;
    }
    if (this.capAfter === After.Value) return `"${this.key}"`;
    return 'a key';
  }

  private finishCapture(bytes: Buffer): void {
    const text = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ResdetError(
        `${this.source}: ${this.where()} (byte ${this.capStartOffset}): malformed JSON: ${(err as Error).message}`,
        'check that the file is complete (not truncated) and valid JSON',
      );
    }
    this.pieces = [];
    switch (this.capAfter) {
      case After.Key:
        this.key = value as string;
        this.state = S.ObjColon;
        break;
      case After.Value:
        this.handlers.onValue?.(this.key as string, value);
        this.state = S.ObjComma;
        break;
      case After.Element:
        this.handlers.onElement(this.arrayKey, value, this.arrayIndex);
        this.arrayIndex++;
        this.state = S.ArrComma;
        break;
    }
  }

  private startValue(b: number, i: number, after: After): void {
    if (b === LBRACE || b === LBRACKET) this.startCapture(Cap.Container, after, i);
    else if (b === QUOTE) this.startCapture(Cap.String, after, i);
    else if (b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e)
      this.startCapture(Cap.Scalar, after, i);
    else this.fail(`expected a value, found ${describeByte(b)}`, this.offset + i);
  }

  private endArray(): void {
    this.inArray = false;
    this.state = this.rootIsArray ? S.Done : S.ObjComma;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let capStart = this.state === S.Capture ? 0 : -1;
    while (i < n) {
      const b = chunk[i];
      switch (this.state) {
        case S.Capture: {
          if (capStart < 0) capStart = i;
          // Tight loop: most bytes of a COCO file are inside captured elements.
          if (this.capKind === Cap.Container) {
            let depth = this.capDepth;
            let inStr = this.capInStr;
            let esc = this.capEsc;
            for (; i < n; i++) {
              const c = chunk[i];
              if (inStr) {
                if (esc) esc = false;
                else if (c === BACKSLASH) esc = true;
                else if (c === QUOTE) inStr = false;
              } else if (c === QUOTE) inStr = true;
              else if (c === LBRACE || c === LBRACKET) depth++;
              else if (c === RBRACE || c === RBRACKET) {
                depth--;
                if (depth === 0) break;
              }
            }
            this.capDepth = depth;
            this.capInStr = inStr;
            this.capEsc = esc;
            if (i < n) {
              i++;
              this.completeCapture(chunk, capStart, i);
              capStart = -1;
            }
          } else if (this.capKind === Cap.String) {
            // The opening quote is at capStart when the capture began in this chunk.
            let esc = this.capEsc;
            let first = this.pieces.length === 0 && i === capStart;
            for (; i < n; i++) {
              const c = chunk[i];
              if (first) {
                first = false;
                continue;
              }
              if (esc) esc = false;
              else if (c === BACKSLASH) esc = true;
              else if (c === QUOTE) break;
            }
            this.capEsc = esc;
            if (i < n) {
              i++;
              this.completeCapture(chunk, capStart, i);
              capStart = -1;
            }
          } else {
            for (; i < n; i++) {
              const c = chunk[i];
              if (isWs(c) || c === COMMA || c === RBRACKET || c === RBRACE) break;
            }
            if (i < n) {
              this.completeCapture(chunk, capStart, i);
              capStart = -1;
            }
          }
          continue;
        }
        case S.RootStart:
          if (isWs(b)) break;
          if (b === LBRACE) this.state = S.ObjKeyOrEnd;
          else if (b === LBRACKET) {
            this.rootIsArray = true;
            this.beginArray(null);
          } else this.fail(`expected '{' or '[' at the start, found ${describeByte(b)}`, this.offset + i);
          break;
        case S.ObjKeyOrEnd:
        case S.ObjKey:
          if (isWs(b)) break;
          if (b === QUOTE) {
            this.startCapture(Cap.String, After.Key, i);
            capStart = i;
            continue;
          }
          if (b === RBRACE && this.state === S.ObjKeyOrEnd) this.state = S.Done;
          else this.fail(`expected a key, found ${describeByte(b)}`, this.offset + i);
          break;
        case S.ObjColon:
          if (isWs(b)) break;
          if (b !== COLON)
            this.fail(`expected ':' after "${this.key}", found ${describeByte(b)}`, this.offset + i);
          this.state = S.ObjValue;
          break;
        case S.ObjValue:
          if (isWs(b)) break;
          if (b === LBRACKET && (!this.streamKeys || this.streamKeys.has(this.key as string))) {
            this.beginArray(this.key);
            break;
          }
          this.startValue(b, i, After.Value);
          capStart = i;
          continue;
        case S.ObjComma:
          if (isWs(b)) break;
          if (b === COMMA) this.state = S.ObjKey;
          else if (b === RBRACE) this.state = S.Done;
          else
            this.fail(`expected ',' or '}' after "${this.key}", found ${describeByte(b)}`, this.offset + i);
          break;
        case S.ArrElemOrEnd:
        case S.ArrElem:
          if (isWs(b)) break;
          if (b === RBRACKET && this.state === S.ArrElemOrEnd) {
            this.endArray();
            break;
          }
          this.startValue(b, i, After.Element);
          capStart = i;
          continue;
        case S.ArrComma:
          if (isWs(b)) break;
          if (b === COMMA) this.state = S.ArrElem;
          else if (b === RBRACKET) this.endArray();
          else
            this.fail(
              `expected ',' or ']' after ${this.arrayKey ?? ''}[${this.arrayIndex - 1}], found ${describeByte(b)}`,
              this.offset + i,
            );
          break;
        case S.Done:
          if (!isWs(b))
            this.fail(`unexpected ${describeByte(b)} after the end of the document`, this.offset + i);
          break;
      }
      i++;
    }
    if (this.state === S.Capture && capStart >= 0) this.pieces.push(chunk.subarray(capStart));
    this.offset += n;
  }

  private beginArray(key: string | null): void {
    this.arrayKey = key;
    this.arrayIndex = 0;
    this.inArray = true;
    this.handlers.onArrayStart?.(key);
    this.state = S.ArrElemOrEnd;
  }

  private completeCapture(chunk: Buffer, start: number, end: number): void {
    const tail = chunk.subarray(start, end);
    const bytes = this.pieces.length === 0 ? tail : Buffer.concat([...this.pieces, tail]);
    this.finishCapture(bytes);
  }

  end(): void {
    if (this.state !== S.Done) {
      const inside = this.inArray ? ` inside ${this.arrayKey ?? 'the top-level array'}` : '';
      this.fail(`unexpected end of file${inside} (truncated?)`, this.offset);
    }
  }
}

/** Streams a JSON file through JsonStreamParser. */
export async function streamJsonFile(
  path: string,
  handlers: JsonStreamHandlers,
  opts: JsonStreamOptions = {},
): Promise<void> {
  const parser = new JsonStreamParser(path, handlers, opts.streamKeys);
  const stream = createReadStream(path, { highWaterMark: opts.chunkSize ?? 1 << 20 });
  try {
    for await (const chunk of stream) parser.push(chunk as Buffer);
  } catch (err) {
    stream.destroy();
    if (err instanceof ResdetError) throw err;
    throw new ResdetError(`cannot read ${path}: ${(err as Error).message}`);
  }
  parser.end();
}
