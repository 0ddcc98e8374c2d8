import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Each test file gets its own temporary directory as TMPDIR (os.tmpdir() reads it on every call,
 * and the CLI processes a test spawns inherit it), removed with everything in it when the file's
 * tests end: what a test, a child process or a library (Playwright's profiles) leaves in the temp
 * directory goes with it, even when a test fails half-way or a child is killed.
 */
const root = process.env.RESDET_TEST_TMP_ROOT ?? tmpdir();
process.env.RESDET_TEST_TMP_ROOT = root;
const own = mkdtempSync(join(root, 'resdet-test-'));
process.env.TMPDIR = own;

afterAll(() => {
  process.env.TMPDIR = root;
  rmSync(own, { recursive: true, force: true });
});
