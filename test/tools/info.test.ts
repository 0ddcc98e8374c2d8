import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('resdet info', () => {
  it('--json reports versions, the chosen backend and why each backend is or is not available', async () => {
    const r = await runCli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.tfjs).toBe('4.22.0');
    expect(['tensorflow', 'webgpu', 'wasm', 'cpu']).toContain(info.backend);
    for (const name of ['tensorflow', 'webgpu', 'wasm', 'cpu']) {
      expect(typeof info.backends[name].available).toBe('boolean');
      expect(info.backends[name].reason.length).toBeGreaterThan(5);
    }
    expect(info.backends.cpu.available).toBe(true);
    expect(info.backends[info.backend].available).toBe(true);
    if (!info.backends.tensorflow.available) expect(info.backends.tensorflow.reason).toMatch(/tfjs-node/);
  });

  it('an explicit backend that cannot load is an error naming the reason and the alternatives', async () => {
    const r = await runCli(['info'], { env: { RESDET_BACKEND: 'tensorflow' } });
    // Where libtensorflow is installed this succeeds; elsewhere it must explain itself.
    if (r.code !== 0) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/backend "tensorflow" is not available: .*tfjs-node/);
      expect(r.stderr).toMatch(/available here: .*cpu/);
    }
  });

  it('usage errors exit 2, help exits 0', async () => {
    expect((await runCli(['no-such-command'])).code).toBe(2);
    expect((await runCli(['--backend', 'quantum', 'info'])).code).toBe(2);
    expect((await runCli(['info'], { env: { RESDET_BACKEND: 'quantum' } })).code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: resdet/);
  });
});
