import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { isImageFile, scanClassFolders } from './folder.js';
import type { ClassificationData, FileSet } from './types.js';

/** Accepts ROOT holding train/ and val/, or the Kaggle layout ROOT/ILSVRC/Data/CLS-LOC. */
function resolveRoot(root: string): string {
  if (existsSync(join(root, 'train'))) return root;
  const kaggle = join(root, 'ILSVRC', 'Data', 'CLS-LOC');
  if (existsSync(join(kaggle, 'train'))) return kaggle;
  throw new ResdetError(
    `${root}: no ImageNet train/ folder (looked in ${root} and ${kaggle})`,
    'expected the ILSVRC layout: train/<wnid>/*.JPEG and val/',
  );
}

/** LOC_val_solution.csv: `ImageId,PredictionString` where the string starts with the wnid. */
function readSolutionCsv(path: string): Map<string, string> {
  const map = new Map<string, string>();
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const [id, pred] = line.split(',');
    const wnid = pred?.trim().split(/\s+/)[0];
    if (!id || !wnid) throw new ResdetError(`${path}:${i + 1}: expected "ImageId,wnid ...", got "${line}"`);
    map.set(id, wnid);
  }
  return map;
}

/** A `<file> <class index>` list (Caffe's val.txt); indices refer to the sorted wnids. */
function readIndexList(path: string, classes: string[]): Map<string, string> {
  const map = new Map<string, string>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line) return;
      const [file, idx] = line.split(/\s+/);
      const k = Number(idx);
      if (!Number.isInteger(k) || k < 0 || k >= classes.length) {
        throw new ResdetError(
          `${path}:${i + 1}: expected "<file> <index in 0..${classes.length - 1}>", got "${line}"`,
        );
      }
      map.set(basename(file).replace(/\.[^.]+$/, ''), classes[k]);
    });
  return map;
}

function flatVal(valDir: string, root: string, classes: string[]): FileSet {
  const candidates = [
    join(root, 'LOC_val_solution.csv'),
    join(root, '..', '..', '..', 'LOC_val_solution.csv'),
    join(root, 'val.txt'),
    join(root, 'val_labels.txt'),
  ];
  const listPath = candidates.find((p) => existsSync(p));
  if (!listPath) {
    throw new ResdetError(
      `${valDir}: val images are flat but no label list was found (${candidates.map((c) => basename(c)).join(', ')})`,
      'put LOC_val_solution.csv or a "<file> <index>" val.txt next to val/, or sort val/ into class folders',
    );
  }
  const byId = listPath.endsWith('.csv') ? readSolutionCsv(listPath) : readIndexList(listPath, classes);
  const index = new Map(classes.map((c, i) => [c, i]));
  const files: string[] = [];
  const labels: number[] = [];
  for (const name of readdirSync(valDir).filter(isImageFile).sort()) {
    const wnid = byId.get(name.replace(/\.[^.]+$/, ''));
    if (wnid === undefined) throw new ResdetError(`${join(valDir, name)}: not listed in ${listPath}`);
    const k = index.get(wnid);
    if (k === undefined)
      throw new ResdetError(`${listPath}: ${name} has class ${wnid}, which train/ does not have`);
    files.push(join(valDir, name));
    labels.push(k);
  }
  return { kind: 'files', name: 'imagenet:val', classes, files, labels: Int32Array.from(labels) };
}

/** `imagenet:ROOT`: train/<wnid>/*.JPEG; val/ as class folders, or flat with a label list. */
export function loadImagenet(rootArg: string): ClassificationData {
  const root = resolveRoot(rootArg);
  const train = scanClassFolders(join(root, 'train'), 'imagenet:train');
  const valDir = join(root, 'val');
  if (!existsSync(valDir)) throw new ResdetError(`${root}: no val/ folder`);
  const hasClassDirs = readdirSync(valDir, { withFileTypes: true }).some((e) => e.isDirectory());
  const test = hasClassDirs
    ? scanClassFolders(valDir, 'imagenet:val', train.classes)
    : flatVal(valDir, root, train.classes);
  return { spec: `imagenet:${rootArg}`, train, test };
}
