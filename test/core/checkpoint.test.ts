import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, readCheckpointConfig, saveCheckpoint } from '../../core/checkpoint.js';
import { Rng } from '../../core/rng.js';
import { Progress } from '../../core/progress.js';
import { Writable } from 'node:stream';

describe('checkpoint directory', () => {
  it('saves config, weights and optimizer and loads them back', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ck-')), 'model');
    const saved = saveCheckpoint(
      dir,
      {
        kind: 'classifier',
        arch: 'resnet18',
        classes: ['a', 'b'],
        preprocessing: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], inputSize: 224 },
        training: { iteration: 7 },
      },
      { 'fc.bias': { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } },
      { 'fc.bias.momentum': { dtype: 'F32', shape: [2], data: new Float32Array([3, 4]) } },
    );
    expect(saved.formatVersion).toBe(1);
    const ck = loadCheckpoint(dir, { optimizer: true });
    expect(ck.config.training).toEqual({ iteration: 7 });
    expect(Array.from(ck.weights.float32('fc.bias'))).toEqual([1, 2]);
    expect(Array.from(ck.optimizer!.float32('fc.bias.momentum'))).toEqual([3, 4]);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('recovers from a save killed between its phases: old checkpoint before the commit, new one after', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ck-')), 'model');
    const config = (iteration: number) => ({
      kind: 'classifier',
      arch: 'resnet18',
      classes: ['a'],
      preprocessing: {
        mean: [0, 0, 0] as [number, number, number],
        std: [1, 1, 1] as [number, number, number],
      },
      training: { iteration },
    });
    const w = (v: number) => ({ x: { dtype: 'F32' as const, shape: [1], data: new Float32Array([v]) } });
    saveCheckpoint(dir, config(1), w(1), w(10));
    saveCheckpoint(join(dir, 'staged'), config(2), w(2), w(20));
    const staged = readCheckpointConfig(join(dir, 'staged'));
    // Killed before the commit: new tensors staged as .next, config.json still the old one.
    copyFileSync(join(dir, 'staged', 'weights.safetensors'), join(dir, 'weights.safetensors.next'));
    copyFileSync(join(dir, 'staged', 'optimizer.safetensors'), join(dir, 'optimizer.safetensors.next'));
    let ck = loadCheckpoint(dir, { optimizer: true });
    expect([
      ck.config.training?.iteration,
      ck.weights.float32('x')[0],
      ck.optimizer!.float32('x')[0],
    ]).toEqual([1, 1, 10]);
    expect(existsSync(join(dir, 'weights.safetensors.next'))).toBe(false);
    // Killed after the commit: config.json names the staged token, renames not done yet.
    copyFileSync(join(dir, 'staged', 'weights.safetensors'), join(dir, 'weights.safetensors.next'));
    copyFileSync(join(dir, 'staged', 'optimizer.safetensors'), join(dir, 'optimizer.safetensors.next'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(staged));
    ck = loadCheckpoint(dir, { optimizer: true });
    expect([
      ck.config.training?.iteration,
      ck.weights.float32('x')[0],
      ck.optimizer!.float32('x')[0],
    ]).toEqual([2, 2, 20]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.next'))).toEqual([]);
  });

  it('explains what is wrong with a directory that is not a checkpoint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-'));
    expect(() => readCheckpointConfig(dir)).toThrow(/not a resdet checkpoint \(no config.json\)/);
    writeFileSync(join(dir, 'config.json'), '{"kind": ');
    expect(() => readCheckpointConfig(dir)).toThrow(/config.json: invalid JSON/);
    writeFileSync(join(dir, 'config.json'), '{"kind": "classifier", "formatVersion": 1}');
    expect(() => readCheckpointConfig(dir)).toThrow(/missing field "arch"/);
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
  });
});

describe('rng', () => {
  it('is reproducible from a seed and resumable from its state', () => {
    const a = new Rng(42);
    const first = [a.next(), a.next()];
    const state = a.getState();
    const next = a.next();
    expect(new Rng(42).next()).toBe(first[0]);
    expect(Rng.fromState(state).next()).toBe(next);
    expect(new Rng(1).permutation(10).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('progress', () => {
  it('writes plain lines with rate and ETA when not on a terminal', () => {
    let out = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    }) as unknown as NodeJS.WriteStream;
    const bar = new Progress({ total: 10, label: 'train', unit: 'img', stream, plainEverySeconds: 0 });
    for (let i = 0; i < 10; i++) bar.tick(1, { loss: 0.5 });
    bar.finish();
    expect(out).toMatch(/train 100% 10\/10 [\d.]+ img\/s elapsed \d\d:\d\d eta \d\d:\d\d loss 0.5000/);
  });

  it('setTotal changes the goal without restarting the count', () => {
    let out = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    }) as unknown as NodeJS.WriteStream;
    const bar = new Progress({ total: 100, stream, plainEverySeconds: 0 });
    bar.tick(30);
    bar.setTotal(40);
    bar.tick(5);
    expect(bar.total).toBe(40);
    expect(out.trim().split('\n').at(-1)).toMatch(/ 88% 35\/40 /);
  });
});
