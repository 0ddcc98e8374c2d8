import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export function tempDir(prefix = 'resdet-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function writeJpeg(
  path: string,
  width: number,
  height: number,
  color = '#808080',
): Promise<void> {
  await sharp({ create: { width, height, channels: 3, background: color } })
    .jpeg()
    .toFile(path);
}

export interface TinyObject {
  name: string;
  /** VOC 1-based inclusive coordinates as written in the XML. */
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  difficult?: boolean;
}

export function vocXmlText(id: string, width: number, height: number, objects: TinyObject[]): string {
  const objs = objects
    .map(
      (o) =>
        `<object><name>${o.name}</name><difficult>${o.difficult ? 1 : 0}</difficult>` +
        `<bndbox><xmin>${o.xmin}</xmin><ymin>${o.ymin}</ymin><xmax>${o.xmax}</xmax><ymax>${o.ymax}</ymax></bndbox></object>`,
    )
    .join('');
  return `<annotation><filename>${id}.jpg</filename><size><width>${width}</width><height>${height}</height><depth>3</depth></size>${objs}</annotation>`;
}

/** A VOC tree with the given images (all 64x48 unless said) written by hand, as the devkit has them. */
export async function writeTinyVoc(
  root: string,
  images: Array<{ id: string; objects: TinyObject[]; width?: number; height?: number; noImage?: boolean }>,
  split = 'trainval',
): Promise<void> {
  for (const d of ['Annotations', 'ImageSets/Main', 'JPEGImages'])
    mkdirSync(join(root, d), { recursive: true });
  for (const im of images) {
    const w = im.width ?? 64;
    const h = im.height ?? 48;
    writeFileSync(join(root, 'Annotations', `${im.id}.xml`), vocXmlText(im.id, w, h, im.objects));
    if (!im.noImage) await writeJpeg(join(root, 'JPEGImages', `${im.id}.jpg`), w, h);
  }
  writeFileSync(join(root, 'ImageSets', 'Main', `${split}.txt`), images.map((i) => `${i.id}\n`).join(''));
}
