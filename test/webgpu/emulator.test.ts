import { describe, expect, it } from 'vitest';
import { emulateGradient, emulatePhases } from '../../core/webgpu/emulator.js';
import { filterGradView, inputGradPhaseViews, inputGradView } from '../../core/webgpu/gemm-views.js';
import { maxNormalizedError, referenceFilterGrad, referenceInputGrad } from '../../core/webgpu/reference.js';
import { DEFAULT_TILES, makeSchedule, type TileConfig } from '../../core/webgpu/schedule.js';
import { RESNET_CASES, seeded, sizes } from './cases.js';

// Small tiles make every case span several workgroups in M, N and K, so edge tiles, partial
// k steps and split boundaries are all exercised; the default 64x64x16 tiles run on a subset.
const SMALL: TileConfig = { tileM: 8, tileN: 8, tileK: 4, threadM: 2, threadN: 2 };
const SKEWED: TileConfig = { tileM: 16, tileN: 4, tileK: 8, threadM: 4, threadN: 1 };

// float32 accumulation against a float64 reference over at most a few hundred terms, relative
// to the gradient's largest element.
const TOL = 1e-5;

describe('emulated GEMM schedule against nested-loop convolution gradients', () => {
  for (const { name, params: p } of RESNET_CASES) {
    const n = sizes(p);
    const x = seeded(n.x, 1);
    const dy = seeded(n.dy, 2);
    const w = seeded(n.w, 3);
    const dwRef = referenceFilterGrad(p, x, dy);
    const dxRef = referenceInputGrad(p, dy, w);

    it(`filter gradient, ${name}`, () => {
      const view = filterGradView(p);
      for (const [tiles, splitK] of [
        [SMALL, 1],
        [SMALL, 3],
        [SKEWED, 2],
      ] as const) {
        const s = makeSchedule(view, { tiles, splitK });
        const got = emulateGradient(view, s, { x, dy });
        expect(
          maxNormalizedError(got, dwRef),
          `tiles ${JSON.stringify(tiles)} splitK ${s.splitK}`,
        ).toBeLessThan(TOL);
      }
    });

    it(`input gradient, ${name}`, () => {
      const view = inputGradView(p);
      for (const tiles of [SMALL, SKEWED]) {
        const s = makeSchedule(view, { tiles, splitK: 1 });
        const got = emulateGradient(view, s, { dy, W: w });
        expect(maxNormalizedError(got, dxRef), `tiles ${JSON.stringify(tiles)}`).toBeLessThan(TOL);
      }
    });
  }

  it('stride-phase input gradients: every phase, assembled, equals the loops (all cases)', () => {
    for (const { name, params: p } of RESNET_CASES) {
      const n = sizes(p);
      const dy = seeded(n.dy, 9);
      const w = seeded(n.w, 10);
      const ref = referenceInputGrad(p, dy, w);
      const views = inputGradPhaseViews(p);
      // Strided convs split into stride^2 phases, each with fewer taps than the whole filter.
      expect(views.length, name).toBe(p.strideHeight * p.strideWidth);
      expect(
        views.reduce((k, v) => k + v.K * v.M, 0),
        name,
      ).toBeLessThanOrEqual(inputGradView(p).K * inputGradView(p).M);
      for (const tiles of [SMALL, SKEWED]) {
        const schedules = views.map((v) => makeSchedule(v, { tiles, splitK: 1 }));
        const got = emulatePhases(views, schedules, { dy, W: w });
        expect(maxNormalizedError(got, ref), `${name} tiles ${JSON.stringify(tiles)}`).toBeLessThan(TOL);
      }
    }
    // 1x1 stride 2: only the (0, 0) phase has a tap; the other three write zeros.
    const pointwise = inputGradPhaseViews(RESNET_CASES[8].params);
    expect(pointwise.map((v) => v.K)).toEqual([RESNET_CASES[8].params.outChannels, 0, 0, 0]);
  });

  it('default 64x64x16 tiles with the automatic split-K (stem and 1x1 cases)', () => {
    for (const c of [RESNET_CASES[0], RESNET_CASES[7], RESNET_CASES[8]]) {
      const p = c.params;
      const n = sizes(p);
      const x = seeded(n.x, 4);
      const dy = seeded(n.dy, 5);
      const w = seeded(n.w, 6);
      const fv = filterGradView(p);
      const dwRef = referenceFilterGrad(p, x, dy);
      for (const splitK of [undefined, 3]) {
        const fs = makeSchedule(fv, { tiles: DEFAULT_TILES, splitK });
        expect(maxNormalizedError(emulateGradient(fv, fs, { x, dy }), dwRef)).toBeLessThan(TOL);
      }
      const iv = inputGradView(p);
      const is = makeSchedule(iv, { tiles: DEFAULT_TILES });
      expect(
        maxNormalizedError(emulateGradient(iv, is, { dy, W: w }), referenceInputGrad(p, dy, w)),
      ).toBeLessThan(TOL);
    }
  });

  it('splits the reduction where the filter gradient has few output tiles (ResNet-50, batch 64)', () => {
    const stem = makeSchedule({ M: 7 * 7 * 3, N: 64, K: 64 * 112 * 112 });
    expect(stem.splitK).toBeGreaterThan(100);
    expect(stem.dispatch[0] * stem.dispatch[1] * stem.splitK).toBeGreaterThanOrEqual(528);
    // Every reduction index belongs to exactly one split.
    expect(stem.kPerSplit * (stem.splitK - 1)).toBeLessThan(stem.K);
    expect(stem.kPerSplit * stem.splitK).toBeGreaterThanOrEqual(stem.K);
    // layer4's 3x3 512->512 at 7x7 already has 576 output tiles: no split.
    expect(makeSchedule({ M: 3 * 3 * 512, N: 512, K: 64 * 7 * 7 }).splitK).toBe(1);
  });

  it('a wrong index formula is caught (the check is not vacuous)', () => {
    const p = RESNET_CASES[4].params;
    const n = sizes(p);
    const x = seeded(n.x, 7);
    const dy = seeded(n.dy, 8);
    const view = filterGradView(p);
    // Swap the stride for 1 in the view only: the reference still uses stride 2.
    const wrong = filterGradView({ ...p, strideHeight: 1 });
    const s = makeSchedule(view, { tiles: SMALL, splitK: 1 });
    const good = emulateGradient(view, s, { x, dy });
    const bad = emulateGradient({ ...wrong, M: view.M, N: view.N, K: view.K }, s, { x, dy });
    const ref = referenceFilterGrad(p, x, dy);
    expect(maxNormalizedError(good, ref)).toBeLessThan(TOL);
    expect(maxNormalizedError(bad, ref)).toBeGreaterThan(1e-2);
  });
});
