import type { Command } from 'commander';
import * as demo from './demo.js';
import * as evalCmd from './eval.js';
import * as info from './info.js';

/** Every `resdet` subcommand; each module registers itself on the program. */
export const commands: ReadonlyArray<{ register(program: Command): void }> = [info, demo, evalCmd];
