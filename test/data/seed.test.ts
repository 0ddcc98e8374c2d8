import { describe, expect, it } from 'vitest';
import { mixSeed as pretrainMixSeed } from '../../backbone/pretrain/state.js';
import { deriveSeed, mixSeed } from '../../data/seed.js';

// Both seed streams pinned to the values the code before their move to data/seed.ts gave (recorded
// 2026-12-04): old checkpoints and runs resume bit-identically only if these never change.
describe('seed mixers', () => {
  it('deriveSeed (data pipeline, detector) keeps its stream', () => {
    expect([deriveSeed(0), deriveSeed(42, 3, 17), deriveSeed(-1, 2 ** 32 - 1)]).toEqual([
      2654435769, 397350494, 493009611,
    ]);
  });

  it('mixSeed (pretraining) keeps its own, different stream, and pretraining uses this one', () => {
    expect([mixSeed(), mixSeed(42, 3, 17), mixSeed(7, 0)]).toEqual([2654435769, 528090968, 1220097424]);
    expect(pretrainMixSeed).toBe(mixSeed);
  });
});
