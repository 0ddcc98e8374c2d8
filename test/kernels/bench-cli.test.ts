import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** `resdet bench train|forward` end to end on a tiny ResNet-20 (the numbers are not checked, the shape of the report is). */
describe('resdet bench', () => {
  it('train --json prints arch, input, batch, backend, img_per_s, ms_per_iter', async () => {
    const r = await runCli([
      'bench',
      'train',
      '--arch',
      'resnet20',
      '--input',
      '8',
      '--batch',
      '2',
      '--channels',
      '1',
      '--iterations',
      '1',
      '--warmup',
      '0',
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      arch: 'resnet20',
      input: 8,
      batch: 2,
      backend: 'wasm',
      channels: 1,
      threads: 1,
    });
    expect(out.img_per_s).toBeGreaterThan(0);
    expect(out.ms_per_iter).toBeGreaterThan(0);
    expect(Math.abs((out.img_per_s as number) - 2000 / (out.ms_per_iter as number))).toBeLessThan(
      0.1 * (out.img_per_s as number),
    );
  });

  it('uses every core (at most 8) unless --threads or RESDET_WASM_THREADS says otherwise', async () => {
    const args = [
      'bench',
      'forward',
      '--arch',
      'resnet20',
      '--input',
      '8',
      '--iterations',
      '1',
      '--warmup',
      '0',
    ];
    const byDefault = await runCli([...args, '--json', '--backend', 'wasm'], {
      env: { RESDET_WASM_THREADS: '' },
    });
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(JSON.parse(byDefault.stdout).threads).toBe(Math.min(8, availableParallelism()));
    const one = await runCli([...args, '--threads', '1', '--json', '--backend', 'wasm'], {
      env: { RESDET_WASM_THREADS: '' },
    });
    expect(JSON.parse(one.stdout).threads).toBe(1);
  });

  it('forward uses the architecture native input size by default and --profile lists kernels', async () => {
    const f = await runCli([
      'bench',
      'forward',
      '--arch',
      'resnet20',
      '--iterations',
      '1',
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout)).toMatchObject({ arch: 'resnet20', input: 32, batch: 1, channels: 3 });
    const p = await runCli([
      'bench',
      'train',
      '--arch',
      'resnet20',
      '--input',
      '8',
      '--batch',
      '2',
      '--iterations',
      '1',
      '--profile',
      '--backend',
      'wasm',
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/Conv2DBackpropFilter\s+\d+ calls/);
  });

  it('rejects bad options with exit code 2', async () => {
    const r = await runCli(['bench', 'train', '--arch', 'resnet20', '--channels', '2', '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--channels');
    const u = await runCli(['bench', 'train', '--arch', 'nosuchnet', '--backend', 'wasm']);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('nosuchnet');
  });
});
