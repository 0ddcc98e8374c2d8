import type { DataProblem, DetectionDataset } from './types.js';
import { formatProblem } from './problems.js';

/** Box-size bins on sqrt(area) in pixels: [lo, hi). */
export const BOX_SIZE_EDGES = [0, 8, 16, 32, 64, 128, 256, 512, Number.POSITIVE_INFINITY];

export interface ClassStats {
  objects: number;
  difficult: number;
  crowd: number;
  /** Images holding at least one object of the class. */
  images: number;
}

export interface DatasetStats {
  name: string;
  images: number;
  imagesWithoutObjects: number;
  objects: number;
  classes: Record<string, ClassStats>;
  /** Objects by sqrt(box area): "0-8", "8-16", ..., "512+". */
  boxSizes: Record<string, number>;
  /** COCO's area ranges on box area: small < 32^2 <= medium < 96^2 <= large. */
  cocoAreas: { small: number; medium: number; large: number };
  imageSizes: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number };
  skipped: { images: number; objects: number };
  problems: Array<Pick<DataProblem, 'kind' | 'file' | 'record' | 'message'>>;
}

const binLabel = (i: number) =>
  Number.isFinite(BOX_SIZE_EDGES[i + 1])
    ? `${BOX_SIZE_EDGES[i]}-${BOX_SIZE_EDGES[i + 1]}`
    : `${BOX_SIZE_EDGES[i]}+`;

export function datasetStats(ds: DetectionDataset): DatasetStats {
  const classes: Record<string, ClassStats> = {};
  for (const c of ds.classes) classes[c] = { objects: 0, difficult: 0, crowd: 0, images: 0 };
  const bins = new Array(BOX_SIZE_EDGES.length - 1).fill(0);
  const cocoAreas = { small: 0, medium: 0, large: 0 };
  const sizes = { minWidth: Infinity, maxWidth: 0, minHeight: Infinity, maxHeight: 0 };
  let objects = 0;
  let empty = 0;
  for (let i = 0; i < ds.length; i++) {
    const s = ds.get(i);
    sizes.minWidth = Math.min(sizes.minWidth, s.width);
    sizes.maxWidth = Math.max(sizes.maxWidth, s.width);
    sizes.minHeight = Math.min(sizes.minHeight, s.height);
    sizes.maxHeight = Math.max(sizes.maxHeight, s.height);
    if (s.labels.length === 0) empty++;
    const seen = new Set<number>();
    for (let j = 0; j < s.labels.length; j++) {
      const c = classes[ds.classes[s.labels[j] - 1]];
      c.objects++;
      if (s.difficult[j]) c.difficult++;
      if (s.crowd[j]) c.crowd++;
      if (!seen.has(s.labels[j])) c.images++;
      seen.add(s.labels[j]);
      const area = (s.boxes[j * 4 + 2] - s.boxes[j * 4]) * (s.boxes[j * 4 + 3] - s.boxes[j * 4 + 1]);
      const side = Math.sqrt(area);
      let b = 0;
      while (side >= BOX_SIZE_EDGES[b + 1]) b++;
      bins[b]++;
      if (area < 32 * 32) cocoAreas.small++;
      else if (area < 96 * 96) cocoAreas.medium++;
      else cocoAreas.large++;
      objects++;
    }
  }
  if (ds.length === 0) Object.assign(sizes, { minWidth: 0, minHeight: 0 });
  return {
    name: ds.name,
    images: ds.length,
    imagesWithoutObjects: empty,
    objects,
    classes,
    boxSizes: Object.fromEntries(bins.map((n, i) => [binLabel(i), n])),
    cocoAreas,
    imageSizes: sizes,
    skipped: { ...ds.skipped },
    problems: ds.problems.map(({ kind, file, record, message }) => ({ kind, file, record, message })),
  };
}

/** The report a person reads: counts, a per-class table and a text histogram. */
export function formatStats(st: DatasetStats): string {
  const lines = [
    `${st.name}`,
    `  images: ${st.images} (${st.imagesWithoutObjects} without objects), objects: ${st.objects}`,
    `  image sizes: ${st.imageSizes.minWidth}-${st.imageSizes.maxWidth} x ${st.imageSizes.minHeight}-${st.imageSizes.maxHeight}`,
    '',
    `  ${'class'.padEnd(16)} ${'objects'.padStart(8)} ${'images'.padStart(8)} ${'difficult'.padStart(9)} ${'crowd'.padStart(6)}`,
  ];
  for (const [name, c] of Object.entries(st.classes)) {
    lines.push(
      `  ${name.padEnd(16)} ${String(c.objects).padStart(8)} ${String(c.images).padStart(8)} ${String(c.difficult).padStart(9)} ${String(c.crowd).padStart(6)}`,
    );
  }
  lines.push('', '  box size (sqrt of area, px):');
  const max = Math.max(1, ...Object.values(st.boxSizes));
  for (const [label, n] of Object.entries(st.boxSizes)) {
    lines.push(`  ${label.padStart(8)} ${String(n).padStart(7)} ${'#'.repeat(Math.round((40 * n) / max))}`);
  }
  const a = st.cocoAreas;
  lines.push(`  COCO areas: small ${a.small}, medium ${a.medium}, large ${a.large}`);
  if (st.problems.length > 0) {
    lines.push('', `  skipped as bad data: ${st.skipped.images} image(s), ${st.skipped.objects} object(s)`);
    for (const p of st.problems.slice(0, 50)) lines.push(`    ${formatProblem(p)}`);
    if (st.problems.length > 50) lines.push(`    ... and ${st.problems.length - 50} more (see --json)`);
  }
  return lines.join('\n');
}
