/**
 * Flag values out of their meaningful range are usage errors at parse time (exit 2), not runs
 * that "finish" with a negative learning rate, a -1 minute budget or an IoU threshold above 1.
 */
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { buildProgram } from '../../tools/cli.js';

const program = await buildProgram();

function option(path: string[], flag: string): Option {
  let cmd: Command = program;
  for (const name of path) {
    const sub = cmd.commands.find((c) => c.name() === name);
    if (!sub) throw new Error(`no command ${path.join(' ')}`);
    cmd = sub;
  }
  const opt = cmd.options.find((o) => o.long === flag);
  if (!opt?.parseArg) throw new Error(`${path.join(' ')} ${flag}: no parser`);
  return opt;
}

function parse(path: string[], flag: string, value: string): unknown {
  return option(path, flag).parseArg?.(value, undefined);
}

const REFUSED: [string[], string, string[]][] = [
  [['train-detector'], '--lr', ['-1', '0', '']],
  [['train-detector'], '--max-minutes', ['-1', '0']],
  [['train-detector'], '--roi-positive-fraction', ['2', '0', '-0.5']],
  [['train-detector'], '--nms-threshold', ['5', '-0.1']],
  [['train-detector'], '--threads', ['0', '9', '100']],
  [['pretrain'], '--lr', ['-1', '0']],
  [['pretrain'], '--max-minutes', ['-1']],
  [['pretrain'], '--threads', ['9']],
  [['experiment', 'degradation'], '--lr', ['-0.1']],
  [['experiment', 'degradation'], '--max-minutes', ['0']],
  [['demo'], '--minutes', ['-1', '0']],
  [['demo'], '--threads', ['9']],
  [['detect'], '--score-threshold', ['-1', '2']],
  [['plot'], '--y-max', ['-5', '0']],
  [['bench', 'train'], '--threads', ['9']],
  [['bench', 'forward'], '--threads', ['9']],
];

describe('range-checked flags', () => {
  for (const [path, flag, values] of REFUSED) {
    it(`${path.join(' ')} ${flag} refuses ${values.map((v) => JSON.stringify(v)).join(', ')}`, () => {
      for (const v of values) {
        expect(() => parse(path, flag, v), `${flag} ${v}`).toThrow(UsageError);
        expect(() => parse(path, flag, v)).toThrow(new RegExp(`^${flag}: expected .*got "${v}"$`));
      }
    });
  }

  it('accepts values in range', () => {
    expect(parse(['train-detector'], '--lr', '0.02')).toBe(0.02);
    expect(parse(['train-detector'], '--roi-positive-fraction', '1')).toBe(1);
    expect(parse(['train-detector'], '--nms-threshold', '0')).toBe(0);
    expect(parse(['train-detector'], '--threads', '8')).toBe(8);
    expect(parse(['detect'], '--score-threshold', '0')).toBe(0);
    expect(parse(['demo'], '--minutes', '0.5')).toBe(0.5);
  });
});
