/**
 * Node's file and socket errors reach the user through describeError: they must name the path the
 * user gave and say what to do, not print Node's errno text (or a temp file's name).
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../core/atomic.js';
import { describeError } from '../../core/errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('describeError for system errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resdet-errors-'));
  const file = join(dir, 'a-file.txt');
  writeFileSync(file, 'x');

  it('a directory wanted where a file is: names the path and gives a hint', () => {
    const text = describeError(thrown(() => mkdirSync(join(file, 'sub'), { recursive: true })));
    expect(text).toMatch(
      /^cannot mkdir .*a-file\.txt.*: .*(file|directory).* \((EEXIST|ENOTDIR)\)\n {2}hint: /,
    );
    expect(text).not.toMatch(/^E[A-Z]+:/);
  });

  it('writeFileAtomic onto a directory names the target and leaves no temp file', () => {
    const target = join(dir, 'target');
    mkdirSync(target);
    const text = describeError(thrown(() => writeFileAtomic(target, ['data'])));
    expect(text).toContain(`cannot write ${target}: is a directory`);
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('writeFileAtomic under a file names the path asked for, not the temp name', () => {
    const text = describeError(thrown(() => writeFileAtomic(join(file, 'out.json'), ['data'])));
    expect(text).toContain(join(file, 'out.json'));
    expect(text).not.toContain('.tmp-');
    expect(text).toMatch(/ENOTDIR\)\n {2}hint: /);
  });

  it('a port in use says so and suggests another --port', async () => {
    const first = createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const port = (first.address() as { port: number }).port;
    const second = createServer();
    const err = await new Promise<unknown>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    first.close();
    expect(describeError(err)).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${port}: address already in use .*--port`, 's'),
    );
  });

  it('other errors keep their message', () => {
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError(Object.assign(new Error('odd'), { code: 'EWHATEVER', path: '/x' }))).toBe('odd');
  });
});
