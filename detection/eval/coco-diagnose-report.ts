/**
 * How diagnostics are shown: terminal tables, and PNGs (confusion heat map, TIDE error bars,
 * PR curves) drawn as SVG and rasterised through core/plot's writeSvgPng, like every resdet plot.
 */
import { join } from 'node:path';
import { escapeXml, linearTicks, PALETTE, writeSvgPng } from '../../core/plot.js';
import type { CocoEvalResult } from './coco.js';
import { type CocoDiagnosis, TIDE_ERRORS } from './coco-diagnose.js';
import { writeCocoPlot } from './plots.js';

function fixed(v: number, digits = 3): string {
  return v === -1 ? '-1' : v.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    `  ${cells.map((x, c) => (c <= 1 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ')}`;
  return [line(header), ...rows.map(line)].join('\n');
}

/** The diagnostics as terminal tables. */
export function formatDiagnosis(d: CocoDiagnosis): string {
  const out: string[] = [];
  const thr = d.scoreThreshold;
  out.push(
    `per category (AP@[.50:.95], AP50, AR; P/R/F1 at score >= ${thr}, IoU ${d.iouThreshold}, area all)`,
  );
  out.push(
    table(
      ['id', 'name', 'GT', 'dets', 'AP', 'AP50', 'AR', 'TP', 'FP', 'FN', 'P', 'R', 'F1'],
      [
        ...d.perCategory.map((c) => [
          String(c.id),
          c.name,
          String(c.gt),
          String(c.detections),
          fixed(c.AP),
          fixed(c.AP50),
          fixed(c.AR),
          String(c.tp),
          String(c.fp),
          String(c.fn),
          fixed(c.precision),
          fixed(c.recall),
          fixed(c.f1),
        ]),
        [
          '',
          'all',
          String(d.perCategory.reduce((a, c) => a + c.gt, 0)),
          String(d.perCategory.reduce((a, c) => a + c.detections, 0)),
          '',
          '',
          '',
          String(d.overall.tp),
          String(d.overall.fp),
          String(d.overall.fn),
          fixed(d.overall.precision),
          fixed(d.overall.recall),
          fixed(d.overall.f1),
        ],
      ],
    ),
  );
  const { labels, matrix } = d.confusion;
  out.push('');
  out.push(
    `confusion matrix (score >= ${thr}, IoU >= ${d.iouThreshold}; rows: ground truth, columns: detected; background row: detections on no GT, column: missed GT)`,
  );
  const short = labels.map((l) => (l.length > 12 ? `${l.slice(0, 11)}.` : l));
  out.push(
    table(
      ['gt \\ dt', '', ...short],
      matrix.map((row, i) => [short[i], '', ...row.map(String)]),
    ),
  );
  const t = d.tide;
  out.push('');
  out.push(
    `TIDE error breakdown (Bolya et al. 2020; t_f = ${t.foregroundIou}, t_b = ${t.backgroundIou}; AP50 ${fixed(t.ap50, 4)}; dAP = AP50 gained by fixing only that error)`,
  );
  out.push(
    table(
      ['error', '', 'count', 'dAP'],
      TIDE_ERRORS.map((e) => [e, '', String(t.errors[e].count), (100 * t.errors[e].dAP).toFixed(2)]),
    ),
  );
  out.push('  (dAP in AP points, x100)');
  return out.join('\n');
}

function svg(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="white"/><g font-family="sans-serif">${body}</g></svg>`;
}

/** Confusion matrix as a heat map: colour = share of the row, the count written in each cell. */
export function renderConfusionSvg(d: CocoDiagnosis, title: string): string {
  const { labels, matrix } = d.confusion;
  const n = labels.length;
  const cell = Math.max(22, Math.min(60, Math.floor(560 / n)));
  const left = 150;
  const top = 150;
  const width = left + n * cell + 30;
  const height = top + n * cell + 50;
  const parts: string[] = [
    `<text x="${width / 2}" y="24" font-size="15" text-anchor="middle">${escapeXml(title)}</text>`,
    `<text x="${left + (n * cell) / 2}" y="${height - 14}" font-size="13" text-anchor="middle">detected</text>`,
    `<text x="18" y="${top + (n * cell) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${top + (n * cell) / 2})">ground truth</text>`,
  ];
  const font = Math.max(9, Math.min(13, cell / 3));
  for (let i = 0; i < n; i++) {
    const rowSum = matrix[i].reduce((a, b) => a + b, 0);
    parts.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" font-size="${font}" text-anchor="end">${escapeXml(labels[i])}</text>`,
    );
    parts.push(
      `<text x="${left + i * cell + cell / 2}" y="${top - 6}" font-size="${font}" text-anchor="start" transform="rotate(-60 ${left + i * cell + cell / 2} ${top - 6})">${escapeXml(labels[i])}</text>`,
    );
    for (let j = 0; j < n; j++) {
      const share = rowSum === 0 ? 0 : matrix[i][j] / rowSum;
      // White to the palette's blue.
      const r = Math.round(255 - share * (255 - 31));
      const g = Math.round(255 - share * (255 - 119));
      const b = Math.round(255 - share * (255 - 180));
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${r},${g},${b})" stroke="#ccc"/>`,
      );
      if (matrix[i][j] > 0)
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="${font}" text-anchor="middle" fill="${share > 0.55 ? 'white' : 'black'}">${matrix[i][j]}</text>`,
        );
    }
  }
  return svg(width, height, parts.join(''));
}

/** TIDE's dAP per error kind as horizontal bars. */
export function renderErrorBarsSvg(d: CocoDiagnosis, title: string): string {
  const width = 640;
  const rowH = 34;
  const left = 120;
  const top = 60;
  const plotW = width - left - 80;
  const height = top + TIDE_ERRORS.length * rowH + 50;
  const values = TIDE_ERRORS.map((e) => 100 * d.tide.errors[e].dAP);
  const hi = Math.max(1, ...values);
  const ticks = linearTicks(0, hi, 5);
  const max = Math.max(hi, ticks[ticks.length - 1] ?? hi);
  const parts: string[] = [
    `<text x="${width / 2}" y="24" font-size="15" text-anchor="middle">${escapeXml(title)}</text>`,
  ];
  for (const t of ticks) {
    const x = left + (t / max) * plotW;
    parts.push(
      `<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${top + TIDE_ERRORS.length * rowH}" stroke="#ddd"/>`,
    );
    parts.push(
      `<text x="${x}" y="${top + TIDE_ERRORS.length * rowH + 16}" font-size="11" text-anchor="middle">${t}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 10}" font-size="12" text-anchor="middle">dAP50 (AP points gained by fixing only that error)</text>`,
  );
  TIDE_ERRORS.forEach((e, i) => {
    const y = top + i * rowH;
    const w = (Math.max(0, values[i]) / max) * plotW;
    parts.push(
      `<text x="${left - 8}" y="${y + rowH / 2 + 4}" font-size="13" text-anchor="end">${escapeXml(e)}</text>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 5}" width="${w}" height="${rowH - 10}" fill="${PALETTE[i % PALETTE.length]}"/>`,
    );
    parts.push(
      `<text x="${left + w + 6}" y="${y + rowH / 2 + 4}" font-size="12">${values[i].toFixed(2)} (${d.tide.errors[e].count})</text>`,
    );
  });
  return svg(width, height, parts.join(''));
}

/** Writes DIR/confusion.png, DIR/errors.png and DIR/pr-curves.png; returns their paths. */
export async function writeDiagnosisPlots(
  dir: string,
  s: CocoEvalResult,
  d: CocoDiagnosis,
): Promise<string[]> {
  const confusion = join(dir, 'confusion.png');
  const errors = join(dir, 'errors.png');
  const pr = join(dir, 'pr-curves.png');
  await writeSvgPng(
    confusion,
    renderConfusionSvg(
      d,
      `COCO ${s.iouType} confusion (score >= ${d.scoreThreshold}, IoU >= ${d.iouThreshold})`,
    ),
  );
  await writeSvgPng(
    errors,
    renderErrorBarsSvg(d, `TIDE errors (${s.iouType}; AP50 ${d.tide.ap50.toFixed(3)}; t_f 0.5, t_b 0.1)`),
  );
  await writeCocoPlot(
    pr,
    s,
    `COCO ${s.iouType} PR curves (AP ${s.AP.toFixed(3)}; precision averaged over IoU .50:.95; dashed: area ranges)`,
  );
  return [confusion, errors, pr];
}
