/**
 * The command table that lets `resdet` load a command's module only when it runs: every entry's
 * name and description are the ones its module registers (they are listed by `resdet --help`
 * without loading it), and every module registers exactly its one command.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandInArgv } from '../../tools/cli.js';
import { commandTable } from '../../tools/commands/index.js';

describe('lazy command table', () => {
  it.each(commandTable.map((e) => [e.name, e] as const))(
    '%s: the module registers the listed command',
    async (_n, entry) => {
      const program = new Command('resdet');
      (await entry.load()).register(program);
      expect(program.commands.map((c) => c.name())).toEqual([entry.name]);
      expect(program.commands[0].description()).toBe(entry.description);
    },
  );

  it('finds the command word after global options', () => {
    expect(commandInArgv(['--backend', 'wasm', '--verbose', 'eval', 'coco'])).toBe('eval');
    expect(commandInArgv(['--help'])).toBeUndefined();
    expect(commandInArgv(['help', 'detect'])).toBe('detect');
    expect(commandInArgv(['-V'])).toBeUndefined();
  });
});
