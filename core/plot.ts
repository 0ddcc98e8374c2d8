/**
 * A small dependency-free SVG chart renderer for the plots resdet writes (loss curves, PR
 * curves, error curves), plus PNG output through sharp (whose librsvg rasterises the SVG).
 * Fonts are generic families so the output renders the same wherever librsvg runs.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ResdetError } from './errors.js';

export interface ChartSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** CSS colour; defaults to the palette entry for the series' position. */
  color?: string;
  /** Dashed stroke, e.g. for a validation curve next to its training curve. */
  dashed?: boolean;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ReadonlyArray<ChartSeries>;
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  /** Logarithmic y axis; points with y <= 0 are left out. */
  logY?: boolean;
  /** Pixel size of the whole chart (default 640 x 420). */
  width?: number;
  height?: number;
  /** Most legend entries shown; the rest are summarised as "+N more" (default 12). */
  maxLegend?: number;
  /** Corner of the plot area holding the legend (default top-right; PR curves want bottom-left). */
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'none';
}

export interface ChartGridSpec {
  title: string;
  charts: ReadonlyArray<LineChartSpec>;
  /** Panels per row (default: ceil(sqrt(n))). */
  columns?: number;
  /** Size of each panel (default 360 x 280). */
  panelWidth?: number;
  panelHeight?: number;
}

/** matplotlib's tab10: distinguishable and familiar. */
export const PALETTE: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "Nice" tick positions (steps of 1, 2 or 5 x 10^k) covering [lo, hi]. */
export function linearTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let i = first; i * step <= hi + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Decades (and 2x, 5x when the range spans few decades) for a log axis over [lo, hi], lo > 0. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) {
    for (const m of mults) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(6)));
}

interface Extent {
  lo: number;
  hi: number;
}

function dataExtent(spec: LineChartSpec, axis: 0 | 1): Extent {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of spec.series) {
    for (const p of s.points) {
      const v = p[axis];
      if (!Number.isFinite(v) || (axis === 1 && spec.logY && v <= 0)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return spec.logY && axis === 1 ? { lo: 0.1, hi: 1 } : { lo: 0, hi: 1 };
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return spec.logY && axis === 1 ? { lo: lo / 2, hi: hi * 2 } : { lo: lo - pad, hi: hi + pad };
  }
  return { lo, hi };
}

/**
 * Renders the chart's body into a group at (ox, oy) of size w x h; shared by the single chart
 * and the grid so both look the same.
 */
function chartBody(spec: LineChartSpec, ox: number, oy: number, w: number, h: number, compact: boolean) {
  const fs = compact ? 10 : 12;
  const ml = compact ? 44 : 60;
  const mr = 12;
  const mt = compact ? 22 : 30;
  const mb = compact ? 34 : 46;
  const pw = Math.max(10, w - ml - mr);
  const ph = Math.max(10, h - mt - mb);
  const x0 = ox + ml;
  const y0 = oy + mt;

  const xe = spec.xRange ? { lo: spec.xRange[0], hi: spec.xRange[1] } : dataExtent(spec, 0);
  let ye = spec.yRange ? { lo: spec.yRange[0], hi: spec.yRange[1] } : dataExtent(spec, 1);
  if (spec.logY && ye.lo <= 0) ye = { lo: Math.max(ye.hi * 1e-6, 1e-12), hi: ye.hi };
  const ylog = spec.logY === true;
  const fy = (v: number) => (ylog ? Math.log10(v) : v);
  const ylo = fy(ye.lo);
  const yhi = fy(ye.hi) === ylo ? ylo + 1 : fy(ye.hi);
  const xhi = xe.hi === xe.lo ? xe.lo + 1 : xe.hi;
  const sx = (v: number) => x0 + ((v - xe.lo) / (xhi - xe.lo)) * pw;
  const sy = (v: number) => y0 + ph - ((fy(v) - ylo) / (yhi - ylo)) * ph;

  const out: string[] = [];
  const clipId = `clip${Math.round(ox)}_${Math.round(oy)}`;
  out.push(`<clipPath id="${clipId}"><rect x="${x0}" y="${y0}" width="${pw}" height="${ph}"/></clipPath>`);
  out.push(
    `<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="#ffffff" stroke="#333" stroke-width="1"/>`,
  );

  const xticks = linearTicks(xe.lo, xhi, compact ? 4 : 6);
  const yticks = ylog ? logTicks(ye.lo, ye.hi) : linearTicks(ye.lo, ye.hi, compact ? 4 : 6);
  for (const t of xticks) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + ph}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${x}" y="${y0 + ph + fs + 3}" font-size="${fs}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  for (const t of yticks) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${x0 - 4}" y="${Number(y) + fs / 3}" font-size="${fs}" text-anchor="end">${formatTick(t)}</text>`,
    );
  }

  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts: string[] = [];
    for (const [px, py] of s.points) {
      if (!Number.isFinite(px) || !Number.isFinite(py) || (ylog && py <= 0)) continue;
      pts.push(`${sx(px).toFixed(2)},${sy(py).toFixed(2)}`);
    }
    if (pts.length === 0) return;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length === 1) {
      const [cx, cy] = pts[0].split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}" clip-path="url(#${clipId})"/>`);
    } else {
      out.push(
        `<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="${compact ? 1.5 : 2}"${dash} stroke-linejoin="round" clip-path="url(#${clipId})"/>`,
      );
    }
  });

  out.push(
    `<text x="${x0 + pw / 2}" y="${oy + mt - 8}" font-size="${fittedFontSize(spec.title, pw, fs + 2)}" font-weight="bold" text-anchor="middle">${escapeXml(fittedTitle(spec.title, pw))}</text>`,
  );
  out.push(
    `<text x="${x0 + pw / 2}" y="${oy + h - 6}" font-size="${fs}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
  );
  const ly = y0 + ph / 2;
  out.push(
    `<text x="${ox + fs + 2}" y="${ly}" font-size="${fs}" text-anchor="middle" transform="rotate(-90 ${ox + fs + 2} ${ly})">${escapeXml(spec.yLabel)}</text>`,
  );

  // Legend: in a corner of the plot area on a translucent box.
  const corner = spec.legend ?? 'top-right';
  const maxLegend = spec.maxLegend ?? 12;
  const shown = spec.series.slice(0, maxLegend);
  const extra = spec.series.length - shown.length;
  if (spec.series.length > 0 && corner !== 'none') {
    const rows = shown.length + (extra > 0 ? 1 : 0);
    const longest = Math.max(...shown.map((s) => s.name.length), extra > 0 ? 8 : 0);
    const lw = Math.min(pw - 8, 28 + longest * fs * 0.6);
    const lh = rows * (fs + 4) + 6;
    const lx = corner.endsWith('right') ? x0 + pw - lw - 4 : x0 + 4;
    const lyTop = corner.startsWith('top') ? y0 + 4 : y0 + ph - lh - 4;
    out.push(
      `<rect x="${lx}" y="${lyTop}" width="${lw}" height="${lh}" fill="#ffffff" fill-opacity="0.85" stroke="#bbb"/>`,
    );
    shown.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const yy = lyTop + 4 + (i + 0.5) * (fs + 4);
      const dash = s.dashed ? ' stroke-dasharray="4 3"' : '';
      out.push(
        `<line x1="${lx + 4}" y1="${yy}" x2="${lx + 22}" y2="${yy}" stroke="${color}" stroke-width="2.5"${dash}/>`,
      );
      out.push(`<text x="${lx + 26}" y="${yy + fs / 3}" font-size="${fs}">${escapeXml(s.name)}</text>`);
    });
    if (extra > 0) {
      const yy = lyTop + 4 + (shown.length + 0.5) * (fs + 4);
      out.push(`<text x="${lx + 26}" y="${yy + fs / 3}" font-size="${fs}">+${extra} more</text>`);
    }
  }
  return out.join('\n');
}

function svgDocument(width: number, height: number, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" fill="#222">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    body,
    '</svg>',
  ].join('\n');
}

/** One line chart as an SVG document (axes, ticks, grid, legend). */
export function renderLineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 420;
  return svgDocument(width, height, chartBody(spec, 0, 0, width, height, false));
}

const GLYPH_EM = 0.66; // a generous average glyph width of bold sans-serif, in em
const MIN_TITLE_FONT = 9;

/**
 * A font size at which a bold title fits `width` pixels (librsvg neither shrinks nor wraps text,
 * so a long dataset path in a title would run off both edges).
 */
function fittedFontSize(text: string, width: number, preferred: number): number {
  const fits = width / (GLYPH_EM * Math.max(1, text.length));
  return Math.max(MIN_TITLE_FONT, Math.min(preferred, Math.floor(fits * 10) / 10));
}

/** The title itself, shortened in the middle when even the smallest font cannot fit it. */
function fittedTitle(text: string, width: number): string {
  const maxChars = Math.floor(width / (GLYPH_EM * MIN_TITLE_FONT));
  if (text.length <= maxChars) return text;
  const keep = Math.max(2, maxChars - 1);
  return `${text.slice(0, Math.ceil(keep / 2))}\u2026${text.slice(text.length - Math.floor(keep / 2))}`;
}

/** Several small charts in a grid under one title (e.g. a PR curve per category). */
export function renderChartGrid(grid: ChartGridSpec): string {
  const n = Math.max(1, grid.charts.length);
  const cols = grid.columns ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const pw = grid.panelWidth ?? 360;
  const ph = grid.panelHeight ?? 280;
  const top = 36;
  const width = cols * pw;
  const height = top + rows * ph;
  const parts = [
    `<text x="${width / 2}" y="24" font-size="${fittedFontSize(grid.title, width - 16, 18)}" font-weight="bold" text-anchor="middle">${escapeXml(fittedTitle(grid.title, width - 16))}</text>`,
  ];
  grid.charts.forEach((c, i) => {
    parts.push(chartBody(c, (i % cols) * pw, top + Math.floor(i / cols) * ph, pw, ph, true));
  });
  return svgDocument(width, height, parts.join('\n'));
}

/** Rasterises an SVG document to PNG at `path` (directories are created). */
export async function writeSvgPng(path: string, svg: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  mkdirSync(dirname(path), { recursive: true });
  try {
    await sharp(Buffer.from(svg), { density: 72 }).png().toFile(path);
  } catch (err) {
    throw new ResdetError(`cannot write the plot ${path}: ${(err as Error).message}`);
  }
}

/** renderLineChart + PNG: the one call most commands need. */
export async function writeChartPng(path: string, spec: LineChartSpec): Promise<void> {
  await writeSvgPng(path, renderLineChart(spec));
}

/** renderChartGrid + PNG. */
export async function writeChartGridPng(path: string, grid: ChartGridSpec): Promise<void> {
  await writeSvgPng(path, renderChartGrid(grid));
}

/**
 * Trailing mean over `k` points (k <= 1: the points as given): per-iteration training curves are
 * too noisy to read.
 */
export function smooth(points: ReadonlyArray<readonly [number, number]>, k: number): [number, number][] {
  if (k <= 1) return points.map(([x, y]) => [x, y]);
  return points.map(([x], i) => {
    const from = Math.max(0, i - k + 1);
    let s = 0;
    for (let j = from; j <= i; j++) s += points[j][1];
    return [x, s / (i - from + 1)];
  });
}
