import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { escapeXml, PALETTE } from '../../core/plot.js';
import type { Detection } from './detector.js';
import type { RgbInput } from './preprocess.js';

/**
 * Draws detections over an image and writes a PNG: one colour per class, the box outline and a
 * "label 0.97" tag above it (inside the image when the box touches the top edge). The overlay is
 * SVG composited by sharp, so text renders without a canvas library.
 */
export async function drawDetections(
  rgb: RgbInput,
  detections: readonly Detection[],
  outPath: string,
  opts: { classes?: readonly string[] } = {},
): Promise<void> {
  const { width, height } = rgb;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(11, Math.round(Math.min(width, height) / 28));
  const parts: string[] = [];
  for (const d of detections) {
    const color =
      PALETTE[(opts.classes ? opts.classes.indexOf(d.label) : d.labelIndex) % PALETTE.length] ?? PALETTE[0];
    const [x1, y1, x2, y2] = d.box;
    const text = `${d.label} ${d.score.toFixed(2)}`;
    const tagW = Math.round(text.length * font * 0.6 + 6);
    const tagH = font + 4;
    const tagY = y1 - tagH >= 0 ? y1 - tagH : y1;
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`,
      `<rect x="${x1.toFixed(1)}" y="${tagY.toFixed(1)}" width="${tagW}" height="${tagH}" fill="${color}"/>`,
      `<text x="${(x1 + 3).toFixed(1)}" y="${(tagY + font).toFixed(1)}" font-family="sans-serif" font-size="${font}" fill="#ffffff">${escapeXml(text)}</text>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  mkdirSync(dirname(outPath), { recursive: true });
  await sharp(rgb.data, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(outPath);
}
