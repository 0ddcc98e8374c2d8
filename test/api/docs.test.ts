import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// `npm run docs` as CI checks it: the API reference builds with every TypeDoc warning an error
// (a public signature naming a type the package does not export, a broken link in a doc comment).
// Written to a temporary folder, not docs/api.

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'resdet-docs-'));

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('API reference', () => {
  it('builds without warnings', async () => {
    const typedoc = join(repoRoot, 'node_modules/typedoc/bin/typedoc');
    const result = await run(process.execPath, [typedoc, '--treatWarningsAsErrors', '--out', out], {
      cwd: repoRoot,
    }).catch((err: { stdout?: string; stderr?: string }) => err);
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).not.toMatch(/warning|error/i);
    for (const page of ['index.html', 'modules/resdet.html', 'modules/resdet_detection.html'])
      expect(existsSync(join(out, page)), page).toBe(true);
  });
});
