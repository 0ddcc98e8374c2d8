#!/usr/bin/env node
import { describeError } from '../core/errors.js';
import { main } from './cli.js';

// The `resdet` executable. Kept apart from cli.ts so importing the program never runs it.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`resdet: ${describeError(err)}\n`);
    process.exit(1);
  },
);
