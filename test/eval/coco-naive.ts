/**
 * A literal, slow transcription of pycocotools' COCOeval (bbox) on plain objects: per-image
 * dicts, list concatenations and a full recall/precision array per setting, as cocoeval.py
 * does. Test-only: the optimised evaluator is checked against it on random sets.
 */

export interface NaiveGt {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  area: number;
  iscrowd: number;
}

export interface NaiveDt {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
  area: number;
}

interface EvalImg {
  dtScores: number[];
  dtMatches: number[][]; // [T][D] matched gt id or 0
  dtIgnore: boolean[][];
  gtIgnore: number[];
}

/** numpy's argsort(kind='mergesort'): stable. */
function stableArgsort(keys: number[]): number[] {
  return keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
}

function iou(d: number[], g: number[], crowd: boolean): number {
  const da = d[2] * d[3];
  const ga = g[2] * g[3];
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const i = w * h;
  return i / (crowd ? da : da + ga - i);
}

export function naiveCocoEval(
  imgIds: number[],
  catIds: number[],
  gts: NaiveGt[],
  dts: NaiveDt[],
  iouThrs: number[],
  recThrs: number[],
  maxDets = [1, 10, 100],
): { stats: number[]; precision: number[][][][][] } {
  const areaRng = [
    [0, 1e10],
    [0, 1024],
    [1024, 9216],
    [9216, 1e10],
  ];
  const key = (i: number, c: number) => `${i},${c}`;
  const G = new Map<string, NaiveGt[]>();
  const D = new Map<string, NaiveDt[]>();
  for (const img of imgIds)
    for (const g of gts.filter((x) => x.image_id === img)) {
      const k = key(g.image_id, g.category_id);
      G.set(k, [...(G.get(k) ?? []), g]);
    }
  for (const img of imgIds)
    for (const d of dts.filter((x) => x.image_id === img)) {
      const k = key(d.image_id, d.category_id);
      D.set(k, [...(D.get(k) ?? []), d]);
    }
  const maxDet = maxDets[maxDets.length - 1];
  const T = iouThrs.length;
  const evalImgs: (EvalImg | null)[] = [];
  for (const catId of catIds) {
    for (const aRng of areaRng) {
      for (const imgId of imgIds) {
        const gt0 = G.get(key(imgId, catId)) ?? [];
        const dt0 = D.get(key(imgId, catId)) ?? [];
        if (gt0.length === 0 && dt0.length === 0) {
          evalImgs.push(null);
          continue;
        }
        const ignore = gt0.map((g) => (g.iscrowd || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
        const gtind = stableArgsort(ignore);
        const gt = gtind.map((i) => gt0[i]);
        const gtIg = gtind.map((i) => ignore[i]);
        const dtind = stableArgsort(dt0.map((d) => -d.score)).slice(0, maxDet);
        const dt = dtind.map((i) => dt0[i]);
        const ious = dt.map((d) => gt.map((g) => iou(d.bbox, g.bbox, g.iscrowd === 1)));
        const gtm = iouThrs.map(() => gt.map(() => 0));
        const dtm = iouThrs.map(() => dt.map(() => 0));
        const dtIg = iouThrs.map(() => dt.map(() => false));
        if (gt.length > 0 && dt.length > 0) {
          iouThrs.forEach((t, tind) => {
            dt.forEach((d, dind) => {
              let best = Math.min(t, 1 - 1e-10);
              let m = -1;
              for (let gind = 0; gind < gt.length; gind++) {
                if (gtm[tind][gind] > 0 && !gt[gind].iscrowd) continue;
                if (m > -1 && gtIg[m] === 0 && gtIg[gind] === 1) break;
                if (ious[dind][gind] < best) continue;
                best = ious[dind][gind];
                m = gind;
              }
              if (m === -1) return;
              dtIg[tind][dind] = gtIg[m] === 1;
              dtm[tind][dind] = gt[m].id;
              gtm[tind][m] = d.id;
            });
          });
        }
        const outside = dt.map((d) => d.area < aRng[0] || d.area > aRng[1]);
        for (let t = 0; t < T; t++)
          for (let j = 0; j < dt.length; j++) dtIg[t][j] = dtIg[t][j] || (dtm[t][j] === 0 && outside[j]);
        evalImgs.push({ dtScores: dt.map((d) => d.score), dtMatches: dtm, dtIgnore: dtIg, gtIgnore: gtIg });
      }
    }
  }

  const R = recThrs.length;
  const K = catIds.length;
  const A = areaRng.length;
  const M = maxDets.length;
  const I = imgIds.length;
  const precision = Array.from({ length: T }, () =>
    Array.from({ length: R }, () =>
      Array.from({ length: K }, () => Array.from({ length: A }, () => new Array(M).fill(-1))),
    ),
  );
  const recall = Array.from({ length: T }, () =>
    Array.from({ length: K }, () => Array.from({ length: A }, () => new Array(M).fill(-1))),
  );
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      for (let m = 0; m < M; m++) {
        const E = evalImgs
          .slice(k * A * I + a * I, k * A * I + a * I + I)
          .filter((e): e is EvalImg => e !== null);
        if (E.length === 0) continue;
        const md = maxDets[m];
        const scores = E.flatMap((e) => e.dtScores.slice(0, md));
        const inds = stableArgsort(scores.map((s) => -s));
        const dtmAll = iouThrs.map((_, t) => E.flatMap((e) => e.dtMatches[t].slice(0, md)));
        const dtIgAll = iouThrs.map((_, t) => E.flatMap((e) => e.dtIgnore[t].slice(0, md)));
        const npig = E.flatMap((e) => e.gtIgnore).filter((g) => g === 0).length;
        if (npig === 0) continue;
        for (let t = 0; t < T; t++) {
          const dtmS = inds.map((i) => dtmAll[t][i]);
          const ig = inds.map((i) => dtIgAll[t][i]);
          let tp = 0;
          let fp = 0;
          const rc: number[] = [];
          const pr: number[] = [];
          for (let j = 0; j < inds.length; j++) {
            if (dtmS[j] !== 0 && !ig[j]) tp++;
            if (dtmS[j] === 0 && !ig[j]) fp++;
            rc.push(tp / npig);
            pr.push(tp / (fp + tp + 2.220446049250313e-16));
          }
          const nd = rc.length;
          recall[t][k][a][m] = nd ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          const q = new Array(R).fill(0);
          for (let ri = 0; ri < R; ri++) {
            let pi = 0;
            while (pi < nd && rc[pi] < recThrs[ri]) pi++;
            if (pi >= nd) break;
            q[ri] = pr[pi];
          }
          for (let ri = 0; ri < R; ri++) precision[t][ri][k][a][m] = q[ri];
        }
      }
    }
  }

  const mean = (vals: number[]) => {
    const v = vals.filter((x) => x > -1);
    return v.length === 0 ? -1 : v.reduce((s, x) => s + x, 0) / v.length;
  };
  const ap = (thr: number | null, a: number, md: number) => {
    const m = maxDets.indexOf(md);
    const vals: number[] = [];
    for (let t = 0; t < T; t++) {
      if (thr !== null && iouThrs[t] !== thr) continue;
      for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) vals.push(precision[t][r][k][a][m]);
    }
    return mean(vals);
  };
  const ar = (a: number, md: number) => {
    const m = maxDets.indexOf(md);
    const vals: number[] = [];
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) vals.push(recall[t][k][a][m]);
    return mean(vals);
  };
  const stats = [
    ap(null, 0, 100),
    ap(0.5, 0, maxDets[2]),
    ap(0.75, 0, maxDets[2]),
    ap(null, 1, maxDets[2]),
    ap(null, 2, maxDets[2]),
    ap(null, 3, maxDets[2]),
    ar(0, maxDets[0]),
    ar(0, maxDets[1]),
    ar(0, maxDets[2]),
    ar(1, maxDets[2]),
    ar(2, maxDets[2]),
    ar(3, maxDets[2]),
  ];
  return { stats, precision };
}
