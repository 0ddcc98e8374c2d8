import { Command, CommanderError, Option } from 'commander';
import { describeError, ResdetError, UsageError } from '../core/errors.js';
import { resdetVersion } from '../core/paths.js';
import { commandTable } from './commands/index.js';

/** The subcommand named in argv: the first word that is not a global option or its value. */
export function commandInArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') i++;
    else if (a === 'help') return argv[i + 1];
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Builds the `resdet` program (exported so tests can drive it in-process). Only the command
 * named by `load` (or every one, for '*') has its module loaded and registered with its options;
 * the others are listed by name and description, which is all `resdet --help` shows.
 */
export async function buildProgram(load: string | undefined = '*'): Promise<Command> {
  const program = new Command('resdet');
  program
    .description('ResNet classifiers and Faster R-CNN detectors on TensorFlow.js')
    .version(resdetVersion(), '-V, --version')
    .addOption(
      new Option('--backend <name>', 'TF.js backend (default: RESDET_BACKEND or auto)').choices([
        'auto',
        'tensorflow',
        'webgpu',
        'wasm',
        'cpu',
        'nosync-cpu',
      ]),
    )
    .option('--verbose', 'more detail on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const entry of commandTable) {
    if (load === '*' || load === entry.name) (await entry.load()).register(program);
    else program.command(entry.name).description(entry.description);
  }
  for (const sub of program.commands) applyExitOverride(sub);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyExitOverride(sub);
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(commandInArgv(argv) ?? '');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return 0;
      }
      return 2;
    }
    process.stderr.write(`resdet: ${describeError(err)}\n`);
    if (err instanceof UsageError) return 2;
    if (!(err instanceof ResdetError) && process.argv.includes('--verbose') && err instanceof Error) {
      process.stderr.write(`${err.stack}\n`);
    }
    return 1;
  }
}
