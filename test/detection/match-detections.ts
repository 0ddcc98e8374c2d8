/** Detection-list comparison with the torchvision fixtures' rules (compare_detections.py). */

export interface Det {
  box: number[];
  score: number;
  label: number;
}

export interface MatchResult {
  ok: boolean;
  expected: number;
  actual: number;
  paired: number;
  maxBoxDiff: number;
  maxScoreDiff: number;
}

/**
 * Same count, and every expected detection paired with an unused actual one of the same label,
 * score within `scoreTol` and every box coordinate within `boxTol` px. Both lists are sorted by
 * descending score and each expected detection takes the nearest-ranked agreeing actual one, so
 * near-tied detections may come in either order.
 */
export function matchDetections(expected: Det[], actual: Det[], boxTol = 1e-2, scoreTol = 1e-4): MatchResult {
  const byScore = (d: Det[]) =>
    d
      .map((x, i) => ({ x, i }))
      .sort((a, b) => b.x.score - a.x.score || a.i - b.i)
      .map((e) => e.x);
  const exp = byScore(expected);
  const act = byScore(actual);
  const used = new Set<number>();
  let maxBoxDiff = 0;
  let maxScoreDiff = 0;
  exp.forEach((e, i) => {
    let best = -1;
    act.forEach((a, k) => {
      if (used.has(k) || a.label !== e.label || Math.abs(a.score - e.score) > scoreTol) return;
      if (!a.box.every((v, j) => Math.abs(v - e.box[j]) <= boxTol)) return;
      if (best < 0 || Math.abs(k - i) < Math.abs(best - i)) best = k;
    });
    if (best < 0) return;
    used.add(best);
    const a = act[best];
    maxBoxDiff = Math.max(maxBoxDiff, ...a.box.map((v, j) => Math.abs(v - e.box[j])));
    maxScoreDiff = Math.max(maxScoreDiff, Math.abs(a.score - e.score));
  });
  return {
    ok: exp.length === act.length && used.size === exp.length,
    expected: exp.length,
    actual: act.length,
    paired: used.size,
    maxBoxDiff,
    maxScoreDiff,
  };
}

/** A fixture's detection record ({boxes, scores, labels}) as a list. */
export function fixtureDetections(rec: { boxes: number[][]; scores: number[]; labels: number[] }): Det[] {
  return rec.boxes.map((box, i) => ({ box, score: rec.scores[i], label: rec.labels[i] }));
}
