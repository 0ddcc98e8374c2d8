import { UsageError } from '../../core/errors.js';
import { loadCifar10 } from './cifar10.js';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnist } from './fashion-mnist.js';
import { loadFolderDataset } from './folder.js';
import { loadImagenet } from './imagenet.js';
import type { ClassificationData } from './types.js';

export type DatasetKind = 'imagenet' | 'folder' | 'cifar10' | 'fashion-mnist';
export const DATASET_KINDS: readonly DatasetKind[] = ['imagenet', 'folder', 'cifar10', 'fashion-mnist'];

export interface DataSpec {
  kind: DatasetKind;
  root: string;
}

/** Parses `KIND:PATH`; `fashion-mnist` alone means Debian's installed copy. */
export function parseDataSpec(spec: string): DataSpec {
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)) as DatasetKind;
  const root = colon < 0 ? '' : spec.slice(colon + 1);
  if (!DATASET_KINDS.includes(kind)) {
    throw new UsageError(
      `--data: unknown dataset kind in "${spec}"`,
      'use imagenet:ROOT, folder:ROOT, cifar10:DIR or fashion-mnist[:DIR]',
    );
  }
  if (!root && kind !== 'fashion-mnist')
    throw new UsageError(
      `--data: "${spec}" needs a path after "${kind}:"`,
      kind === 'cifar10'
        ? 'fetch it with `resdet data download cifar10 --to DIR`, then pass cifar10:DIR'
        : `pass ${kind}:ROOT`,
    );
  return { kind, root: root || DEFAULT_FASHION_MNIST_DIR };
}

export function loadClassificationData(spec: string | DataSpec): ClassificationData {
  const s = typeof spec === 'string' ? parseDataSpec(spec) : spec;
  switch (s.kind) {
    case 'fashion-mnist':
      return loadFashionMnist(s.root);
    case 'cifar10':
      return loadCifar10(s.root);
    case 'folder':
      return loadFolderDataset(s.root);
    case 'imagenet':
      return loadImagenet(s.root);
  }
}
