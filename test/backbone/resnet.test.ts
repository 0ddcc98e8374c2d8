import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildResNet, resnetConfig } from '../../backbone/index.js';
import { symmetricPad } from '../../backbone/layers.js';
import { initBackend } from '../../core/backend.js';
import { ResdetError } from '../../core/errors.js';

/** Behaviour of the module system and the builder, on small nets and the cpu backend. */

beforeAll(async () => {
  await initBackend('cpu', { notice: () => {} });
});

function randomInput(n: number, size: number, seed = 1): tf.Tensor4D {
  return tf.randomNormal([n, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

function trainableCount(model: ReturnType<typeof buildResNet>): number {
  return model.trainableVariables().reduce((a, v) => a + v.size, 0);
}

describe('state_dict names and layouts', () => {
  it("uses torchvision's names for resnet18 (122 keys) and resnet50 (320 keys)", () => {
    const r18 = buildResNet(resnetConfig('resnet18', { baseWidth: 8 }), { initialize: false });
    const names18 = r18.params.names();
    expect(names18.length).toBe(122);
    expect(names18).toContain('layer2.0.downsample.0.weight');
    expect(names18).not.toContain('layer1.0.downsample.0.weight');
    const shapes = r18.params.torchShapes();
    expect(shapes['conv1.weight']).toEqual([8, 3, 7, 7]);
    expect(shapes['layer3.1.conv2.weight']).toEqual([32, 32, 3, 3]);
    expect(shapes['fc.weight']).toEqual([1000, 64]);
    expect(shapes['bn1.num_batches_tracked']).toEqual([]);
    r18.dispose();
    const r50 = buildResNet(resnetConfig('resnet50', { baseWidth: 8, numClasses: 5 }), { initialize: false });
    const shapes50 = r50.params.torchShapes();
    expect(Object.keys(shapes50).length).toBe(320);
    expect(shapes50['layer1.0.downsample.0.weight']).toEqual([32, 8, 1, 1]);
    expect(shapes50['layer4.2.conv3.weight']).toEqual([256, 64, 1, 1]);
    r50.dispose();
  });

  it('counts parameters from the built model the same way `resdet models` does', () => {
    for (const arch of ['resnet20', 'plain20', 'resnet18']) {
      const model = buildResNet(resnetConfig(arch, arch === 'resnet18' ? { baseWidth: 16 } : {}), {
        initialize: false,
      });
      expect(trainableCount(model), arch).toBe(model.cost().params);
      model.dispose();
    }
  });

  it('round-trips through stateDict / loadStateDict (OIHW and [out, in] outside, I64 counters)', async () => {
    const a = buildResNet(resnetConfig('resnet20', { seed: 1 }));
    const b = buildResNet(resnetConfig('resnet20', { seed: 2 }));
    const x = randomInput(2, 32);
    // Move a's BN statistics away from their initial values so the buffers matter.
    a.forward(x, true).dispose();
    const state = await a.stateDict();
    expect(state['layer1.0.bn1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
    expect(Number((state['bn1.num_batches_tracked'].data as BigInt64Array)[0])).toBe(1);
    // conv1 in OIHW: element [o=1, i=2, kh=0, kw=1] equals the HWIO variable at [0, 1, 2, 1].
    const hwio = a.params.get('conv1.weight').variable.arraySync() as number[][][][];
    expect(state['conv1.weight'].data[1 * 27 + 2 * 9 + 0 * 3 + 1]).toBe(hwio[0][1][2][1]);
    const fcIn = a.params.get('fc.weight').variable.arraySync() as number[][];
    expect(state['fc.weight'].data[3 * 64 + 5]).toBe(fcIn[5][3]);
    b.loadStateDict(state);
    const ya = a.forward(x, false);
    const yb = b.forward(x, false);
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('names missing, unexpected and mis-shaped keys', async () => {
    const model = buildResNet(resnetConfig('resnet20', { numClasses: 10 }), { initialize: false });
    const state = await model.stateDict();
    delete state['layer2.1.bn2.running_var'];
    state['extra.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    state['fc.bias'] = { dtype: 'F32', shape: [7], data: new Float32Array(7) };
    let err: unknown;
    try {
      model.loadStateDict(state);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResdetError);
    const msg = (err as Error).message;
    expect(msg).toContain('missing: layer2.1.bn2.running_var');
    expect(msg).toContain('unexpected: extra.weight');
    expect(msg).toContain('mis-shaped: fc.bias (file [7], model [10])');
    // Non-strict ignores missing and unexpected keys, but never a wrong shape.
    state['fc.bias'] = { dtype: 'F32', shape: [10], data: new Float32Array(10) };
    const r = model.loadStateDict(state, { strict: false });
    expect(r.missing).toEqual(['layer2.1.bn2.running_var']);
    expect(r.unexpected).toEqual(['extra.weight']);
    model.dispose();
  });
});

describe('architecture', () => {
  it("pads like torch both ways: numeric padding and explicit tf.pad (tfjs-node's path)", () => {
    const x = tf.relu(randomInput(1, 10)) as tf.Tensor4D;
    const w = tf.randomNormal([7, 7, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const [k, stride, pad] of [
      [7, 2, 3],
      [3, 2, 1],
      [3, 1, 1],
    ]) {
      const filter = k === 7 ? w : (tf.slice(w, [0, 0, 0, 0], [3, 3, 3, 4]) as tf.Tensor4D);
      const a = symmetricPad(x, pad, k, stride, false);
      const b = symmetricPad(x, pad, k, stride, true);
      const ya = tf.conv2d(a.input, filter, stride, a.pad);
      const yb = tf.conv2d(b.input, filter, stride, b.pad);
      expect(ya.shape).toEqual([
        1,
        Math.floor((10 + 2 * pad - k) / stride) + 1,
        Math.floor((10 + 2 * pad - k) / stride) + 1,
        4,
      ]);
      expect(tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]).toBeLessThan(1e-5);
    }
    const pa = symmetricPad(x, 1, 3, 2, false);
    const pb = symmetricPad(x, 1, 3, 2, true);
    expect(Array.from(tf.maxPool(pb.input, 3, 2, pb.pad).dataSync())).toEqual(
      Array.from(tf.maxPool(pa.input, 3, 2, pa.pad).dataSync()),
    );
  });

  it('builds CIFAR nets with option-A shortcuts: no projections, 8x8x64 before the pool', () => {
    const model = buildResNet(resnetConfig('resnet20'));
    expect(model.params.names().some((n) => n.includes('downsample'))).toBe(false);
    const x = randomInput(2, 32);
    const f = model.features(x);
    expect(f.stem?.shape).toEqual([2, 32, 32, 16]);
    expect(f.layer2?.shape).toEqual([2, 16, 16, 32]);
    expect(f.layer3?.shape).toEqual([2, 8, 8, 64]);
    expect(f.layer4).toBeUndefined();
    const y = model.forward(x, false);
    expect(y.shape).toEqual([2, 10]);
    tf.dispose([x, y, ...Object.values(f)]);
    model.dispose();
  });

  it('shortcut C adds a projection to every block; B only where dimensions change', () => {
    const c = buildResNet(resnetConfig('resnet18', { baseWidth: 4, shortcut: 'C' }), { initialize: false });
    expect(c.params.names().filter((n) => n.endsWith('downsample.0.weight')).length).toBe(8);
    const b = buildResNet(resnetConfig('resnet18', { baseWidth: 4 }), { initialize: false });
    expect(b.params.names().filter((n) => n.endsWith('downsample.0.weight')).length).toBe(3);
    c.dispose();
    b.dispose();
  });

  it('v1 and v1.5 bottlenecks share weights but not outputs', async () => {
    const v15 = buildResNet(resnetConfig('resnet50', { baseWidth: 4, layers: [1, 1, 1, 1], numClasses: 3 }));
    const v1 = buildResNet(
      resnetConfig('resnet50', { baseWidth: 4, layers: [1, 1, 1, 1], numClasses: 3, stridePlacement: 'v1' }),
    );
    v1.loadStateDict(await v15.stateDict());
    const x = randomInput(1, 64);
    const a = v15.features(x);
    const b = v1.features(x);
    expect(a.layer2?.shape).toEqual(b.layer2?.shape);
    const diff = tf.max(tf.abs(tf.sub(a.layer2 as tf.Tensor, b.layer2 as tf.Tensor))).dataSync()[0];
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([x, ...Object.values(a), ...Object.values(b)]);
    v15.dispose();
    v1.dispose();
  });

  it('stem + stages + head equals forward, with strides 4, 4, 8, 16, 32', () => {
    const model = buildResNet(resnetConfig('resnet18', { baseWidth: 8, numClasses: 4 }));
    const x = randomInput(1, 64);
    const trunk = tf.tidy(() => [1, 2, 3].reduce((y, i) => model.stage(i, y, false), model.stem(x, false)));
    expect(trunk.shape).toEqual([1, 4, 4, 32]);
    expect([0, 1, 2, 3, 4].map((i) => model.stageStride(i))).toEqual([4, 4, 8, 16, 32]);
    expect(model.stageChannels(3)).toBe(32);
    const viaStages = tf.tidy(() => model.head(model.stage(4, trunk, false)));
    const direct = model.forward(x, false);
    expect(tf.max(tf.abs(tf.sub(viaStages, direct))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, trunk, viaStages, direct]);
    model.dispose();
  });

  it('plain nets have no shortcut (their blocks end in ReLU)', () => {
    const plain = buildResNet(resnetConfig('plain20'));
    const x = randomInput(1, 32);
    const y = plain.forward(x, false);
    expect(y.shape).toEqual([1, 10]);
    tf.dispose([x, y]);
    plain.dispose();
  });

  it('zeroInitResidual zeroes the last BN scale of every residual block', () => {
    const model = buildResNet(resnetConfig('resnet18', { baseWidth: 4, zeroInitResidual: true }));
    expect(
      Array.from(model.params.get('layer1.0.bn2.weight').variable.dataSync()).every((v) => v === 0),
    ).toBe(true);
    expect(
      Array.from(model.params.get('layer1.0.bn1.weight').variable.dataSync()).every((v) => v === 1),
    ).toBe(true);
    model.dispose();
  });

  it('He-initialises convs with std sqrt(2 / fan_out)', () => {
    const model = buildResNet(resnetConfig('resnet18', { baseWidth: 64, numClasses: 10 }));
    const w = model.params.get('layer4.0.conv2.weight').variable;
    const { variance } = tf.moments(w);
    expect(Math.sqrt(variance.dataSync()[0])).toBeCloseTo(Math.sqrt(2 / (512 * 9)), 3);
    variance.dispose();
    model.dispose();
  });
});

describe('batch norm modes and freezing', () => {
  it('train-mode BN normalises with batch statistics and updates running stats like torch', () => {
    const model = buildResNet(resnetConfig('resnet20', { seed: 3 }));
    const x = randomInput(4, 8);
    const w = model.params.get('conv1.weight').variable as tf.Tensor4D;
    const conv = tf.conv2d(x, w, 1, 1);
    const { mean, variance } = tf.moments(conv, [0, 1, 2]);
    const n = conv.size / conv.shape[3];
    model.forward(x, true).dispose();
    const rm = model.params.get('bn1.running_mean').variable.dataSync();
    const rv = model.params.get('bn1.running_var').variable.dataSync();
    const m = mean.dataSync();
    const v = variance.dataSync();
    for (let c = 0; c < 16; c++) {
      expect(rm[c]).toBeCloseTo(0.1 * m[c], 5);
      expect(rv[c]).toBeCloseTo(0.9 + 0.1 * v[c] * (n / (n - 1)), 5);
    }
    expect(model.params.get('bn1.num_batches_tracked').variable.dataSync()[0]).toBe(1);
    tf.dispose([x, conv, mean, variance]);
    model.dispose();
  });

  it('frozen BN keeps running stats and affine fixed; gradients still reach the convs', () => {
    const model = buildResNet(resnetConfig('resnet20', { frozenBn: true }));
    const before = model.params.get('layer1.0.bn1.running_mean').variable.dataSync().slice();
    const x = randomInput(2, 16);
    const vars = model.trainableVariables();
    expect(vars).not.toContain(model.params.get('bn1.weight').variable);
    expect(vars).toContain(model.params.get('conv1.weight').variable);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(model.forward(x, true))) as tf.Scalar,
      vars,
    );
    const g = grads[vars[0].name];
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect(Array.from(model.params.get('layer1.0.bn1.running_mean').variable.dataSync())).toEqual(
      Array.from(before),
    );
    // Training mode with frozen BN computes the same function as inference.
    const y = model.forward(x, false);
    expect(Math.abs(tf.sum(tf.square(y)).dataSync()[0] - value.dataSync()[0])).toBeLessThan(1e-3);
    tf.dispose([x, value, y, ...Object.values(grads)]);
    model.dispose();
  });

  it('freezeAt 2 freezes the stem and layer1 (parameters and BN)', () => {
    const model = buildResNet(resnetConfig('resnet18', { baseWidth: 4, numClasses: 3, freezeAt: 2 }));
    const trainable = new Set(model.trainableVariables());
    for (const name of model.params.names()) {
      const entry = model.params.get(name);
      if (entry.buffer) continue;
      const frozen = name.startsWith('conv1.') || name.startsWith('bn1.') || name.startsWith('layer1.');
      expect(trainable.has(entry.variable), name).toBe(!frozen);
    }
    const x = randomInput(2, 32);
    const rm = () => Array.from(model.params.get('layer1.0.bn1.running_mean').variable.dataSync());
    const rm2 = () => Array.from(model.params.get('layer2.0.bn1.running_mean').variable.dataSync());
    const [a1, a2] = [rm(), rm2()];
    model.forward(x, true).dispose();
    expect(rm()).toEqual(a1);
    expect(rm2()).not.toEqual(a2);
    model.setFreezeAt(0);
    expect(model.trainableVariables().length).toBeGreaterThan(trainable.size);
    x.dispose();
    model.dispose();
  });

  it('picks up new weights after an optimizer step (the folded-weight cache follows the variables)', async () => {
    const model = buildResNet(resnetConfig('resnet20'));
    const x = randomInput(2, 16);
    const y0 = model.forward(x, false);
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.sum(model.forward(x, true)) as tf.Scalar, false, model.trainableVariables());
    const y1 = model.forward(x, false);
    expect(tf.max(tf.abs(tf.sub(y0, y1))).dataSync()[0]).toBeGreaterThan(1e-4);
    // A fresh model loaded with the same state computes the same logits (no stale cache).
    const fresh = buildResNet(resnetConfig('resnet20'), { initialize: false });
    fresh.loadStateDict(await model.stateDict());
    const y2 = fresh.forward(x, false);
    expect(tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y0, y1, y2]);
    opt.dispose();
    model.dispose();
    fresh.dispose();
  });

  it('does not leak tensors in training forward passes or after dispose', () => {
    const before = tf.memory().numTensors;
    const model = buildResNet(resnetConfig('resnet20'));
    const x = randomInput(2, 16);
    model.forward(x, false).dispose();
    const mid = tf.memory().numTensors;
    model.forward(x, true).dispose();
    model.forward(x, false).dispose();
    expect(tf.memory().numTensors).toBe(mid);
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
