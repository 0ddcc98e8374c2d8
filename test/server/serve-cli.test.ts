import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { parseSize } from '../../tools/commands/serve.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { postImage, solidPng } from './helpers.js';
import { writeTinyClassifier, writeTinyDetector } from './tiny-models.js';

let dir: string;
beforeAll(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'resdet-serve-cli-'));
  await writeTinyDetector(join(dir, 'det'));
  await writeTinyClassifier(join(dir, 'cls'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resdet serve', () => {
  it('serves real checkpoints on 127.0.0.1, answers, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'tools', 'bin.ts'),
        'serve',
        '--detector',
        join(dir, 'det'),
        '--classifier',
        join(dir, 'cls'),
        '--port',
        '0',
        '--concurrency',
        '2',
        '--queue',
        '4',
      ],
      { cwd: repoRoot, env: { ...process.env, RESDET_BACKEND: 'wasm' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
          if (m) resolve(m[1]);
        });
        child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
      });
      // Poll /readyz until the models are in.
      let ready = false;
      for (let i = 0; i < 300 && !ready; i++) {
        ready = (await fetch(`${url}/readyz`)).status === 200;
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(true);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as {
        backend: string;
        limits: Record<string, number>;
      };
      expect(models.backend).toBe('wasm');
      expect(models.limits).toMatchObject({ concurrency: 2, queue: 4 });
      const res = await postImage(`${url}/v1/detect`, await solidPng(50, 40, [90, 160, 30]), {
        multipart: true,
      });
      expect(res.status).toBe(200);
      const cls = await postImage(`${url}/v1/classify?topk=5`, await solidPng(50, 40, [90, 160, 30]));
      expect(((await cls.json()) as { predictions: unknown[] }).predictions).toHaveLength(5);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain(
        'ready: detector det (resnet18), classifier cls (resnet20) on the worker thread',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a checkpoint that does not exist -> exit 1 naming it', async () => {
    const r = await runCli(['serve', '--detector', join(dir, 'nope'), '--port', '0'], {
      env: { RESDET_BACKEND: 'cpu' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope');
    // The first line already says why the server is stopping.
    const first = r.stderr.split('\n').find((l) => l.startsWith('resdet serve:')) ?? '';
    expect(first).toMatch(/could not load the models \(.*nope/);
  });

  it('usage errors -> exit 2', async () => {
    const missing = await runCli(['serve'], { env: { RESDET_BACKEND: 'cpu' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--detector');
    const size = await runCli(['serve', '--detector', join(dir, 'det'), '--max-body', 'lots'], {
      env: { RESDET_BACKEND: 'cpu' },
    });
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--max-body');
  });

  it('parses body sizes in binary units', () => {
    expect(parseSize('20mb')).toBe(20 * 1024 * 1024);
    expect(parseSize('512KB')).toBe(512 * 1024);
    expect(parseSize('1000')).toBe(1000);
    expect(parseSize('1.5mb')).toBe(1.5 * 1024 * 1024);
    expect(() => parseSize('0')).toThrow(/--max-body/);
    expect(() => parseSize('-5mb')).toThrow(/--max-body/);
  });
});
