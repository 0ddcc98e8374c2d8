import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { basename, join } from 'node:path';
import { ResdetError, UsageError } from '../core/errors.js';
import { Progress } from '../core/progress.js';

/** One file of a dataset: where it lives and its published MD5. */
export interface RemoteFile {
  url: string;
  md5: string;
  /** How to unpack it once verified: a tar(.gz) or zip archive, or keep as is. */
  extract: 'tar' | 'zip' | 'none';
}

export interface DatasetSource {
  name: string;
  description: string;
  files: RemoteFile[];
  /** Where the usable data ends up, relative to --to (for the closing message). */
  result: string;
  /** The `--data` / dataset spec that reads it afterwards. */
  usage: string;
}

// Official locations and checksums (the ones torchvision and the dataset pages publish).
export const DATASET_SOURCES: Record<string, DatasetSource> = {
  cifar10: {
    name: 'cifar10',
    description: 'CIFAR-10, binary version (162 MB)',
    files: [
      {
        url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
        extract: 'tar',
      },
    ],
    result: 'cifar-10-batches-bin',
    usage: '--data cifar10:DIR',
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    description: 'Fashion-MNIST, gzipped IDX files (30 MB)',
    files: [
      ['train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'],
      ['train-labels-idx1-ubyte.gz', '25c81989df183df01b3e8a0aad5dffbe'],
      ['t10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'],
      ['t10k-labels-idx1-ubyte.gz', 'bb300cfdad3c16e7a12a480ee83cd310'],
    ].map(([file, md5]) => ({
      url: `http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/${file}`,
      md5,
      extract: 'none' as const,
    })),
    result: '.',
    usage: '--data fashion-mnist:DIR',
  },
  voc2007: {
    name: 'voc2007',
    description: 'PASCAL VOC 2007 trainval + test (868 MB)',
    files: [
      {
        url: 'http://host.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtrainval_06-Nov-2007.tar',
        md5: 'c52e279531787c972589f7e41ab4ae64',
        extract: 'tar',
      },
      {
        url: 'http://host.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtest_06-Nov-2007.tar',
        md5: 'b6e924de25625d8de591ea690078ad9f',
        extract: 'tar',
      },
    ],
    result: 'VOCdevkit/VOC2007',
    usage: 'voc:DIR/VOCdevkit/VOC2007',
  },
  voc2012: {
    name: 'voc2012',
    description: 'PASCAL VOC 2012 trainval (1.9 GB)',
    files: [
      {
        url: 'http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar',
        md5: '6cd6e144f989b92b3379bac3b3de84fd',
        extract: 'tar',
      },
    ],
    result: 'VOCdevkit/VOC2012',
    usage: 'voc:DIR/VOCdevkit/VOC2012',
  },
  coco2017: {
    name: 'coco2017',
    description: 'COCO 2017 train + val images and annotations (19 GB)',
    files: [
      ['annotations/annotations_trainval2017.zip', 'f4bbac642086de4f52a3fdda2de5fa2c'],
      ['zips/val2017.zip', '442b8da7639aecaf257c1dceb8ba8c80'],
      ['zips/train2017.zip', 'cced6f7f71b7629ddf16f17bbcfab6b2'],
    ].map(([path, md5]) => ({ url: `http://images.cocodataset.org/${path}`, md5, extract: 'zip' as const })),
    result: 'annotations, train2017, val2017',
    usage: 'coco:DIR/annotations/instances_val2017.json',
  },
};

export function datasetSource(name: string): DatasetSource {
  const s = DATASET_SOURCES[name];
  if (!s) {
    throw new UsageError(
      `unknown dataset "${name}"`,
      `choose one of: ${Object.keys(DATASET_SOURCES).join(', ')}`,
    );
  }
  return s;
}

export interface DownloadOptions {
  /** Replace each URL's directory with this one (a mirror, or a local server in tests). */
  baseUrl?: string;
  /** Retries after a dropped connection, each continuing with an HTTP Range request. */
  retries?: number;
  silent?: boolean;
  log?: (line: string) => void;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  /** `cached`: already there with the right checksum; `resumed`: continued a partial file. */
  status: 'downloaded' | 'resumed' | 'cached';
}

const PART_SUFFIX = '.part';

function request(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { 'user-agent': 'resdet', ...headers } }, resolve);
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('no data for 60 s')));
  });
}

/** GET with redirects followed (http -> https moves are common on these hosts). */
async function fetchFrom(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  let current = url;
  for (let hops = 0; hops < 5; hops++) {
    const res = await request(current, headers);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, current).toString();
      continue;
    }
    return res;
  }
  throw new ResdetError(`${url}: too many redirects`);
}

async function md5Of(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sourceUrl(file: RemoteFile, baseUrl?: string): string {
  if (!baseUrl) return file.url;
  return `${baseUrl.replace(/\/+$/, '')}/${basename(new URL(file.url).pathname)}`;
}

/**
 * Downloads one file into `dir`, resumable: bytes go to NAME.part, a later call (or a retry after
 * a dropped connection) asks for the rest with a Range header, and the file is renamed into place
 * only after its MD5 matches. A mismatch deletes the partial file and is an error.
 */
export async function downloadFile(
  file: RemoteFile,
  dir: string,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(dir, { recursive: true });
  const url = sourceUrl(file, opts.baseUrl);
  const name = basename(new URL(file.url).pathname);
  const dest = join(dir, name);
  const part = dest + PART_SUFFIX;
  if (existsSync(dest) && (await md5Of(dest)) === file.md5) {
    return { file: dest, bytes: statSync(dest).size, status: 'cached' };
  }
  const retries = opts.retries ?? 3;
  let resumed = existsSync(part) && statSync(part).size > 0;
  let progress: Progress | undefined;
  for (let attempt = 0; ; attempt++) {
    const have = existsSync(part) ? statSync(part).size : 0;
    try {
      const res = await fetchFrom(url, have > 0 ? { range: `bytes=${have}-` } : {});
      const status = res.statusCode ?? 0;
      if (status === 416 && have > 0) {
        res.resume(); // the partial file already holds everything the server has
        break;
      }
      if (status !== 200 && status !== 206) {
        res.resume();
        throw new ResdetError(
          `${url}: HTTP ${status}`,
          'check the network, or try again later (the host may be down)',
        );
      }
      // 200 to a Range request: the server does not do ranges; start over.
      const append = status === 206 && have > 0;
      if (!append && have > 0) resumed = false;
      const length = Number(res.headers['content-length'] ?? 0);
      const total = (append ? have : 0) + length;
      const mb = (b: number) => Math.ceil(b / 1e6);
      progress ??= new Progress({
        total: Math.max(1, mb(total)),
        start: append ? Math.floor(have / 1e6) : 0,
        label: name,
        unit: 'MB',
        silent: opts.silent,
      });
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
        let pending = 0;
        res.on('data', (chunk: Buffer) => {
          pending += chunk.length;
          if (pending >= 1e6) {
            progress?.tick(Math.floor(pending / 1e6));
            pending %= 1e6;
          }
        });
        res.on('aborted', () => reject(new Error('connection closed mid-transfer')));
        res.on('error', reject);
        out.on('error', reject);
        out.on('finish', () => {
          // A response that ends short of Content-Length is a dropped transfer, not a file.
          if (length > 0 && statSync(part).size < total) reject(new Error('connection closed mid-transfer'));
          else resolve();
        });
        res.pipe(out);
      });
      break;
    } catch (err) {
      if (err instanceof ResdetError || attempt >= retries) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new ResdetError(
          `${url}: download failed (${msg}); ${existsSync(part) ? statSync(part).size : 0} bytes kept in ${part}`,
          'run the same command again to continue where it stopped',
        );
      }
      resumed = true;
      log(
        `${name}: ${(err as Error).message}; continuing from byte ${existsSync(part) ? statSync(part).size : 0}`,
      );
    }
  }
  progress?.finish();
  const got = await md5Of(part);
  if (got !== file.md5) {
    rmSync(part, { force: true });
    throw new ResdetError(
      `${name}: checksum mismatch (MD5 ${got}, expected ${file.md5}); the partial file was deleted`,
      'run the command again to download it afresh; if it keeps failing, the mirror serves a different file',
    );
  }
  renameSync(part, dest);
  return { file: dest, bytes: statSync(dest).size, status: resumed ? 'resumed' : 'downloaded' };
}

/** Unpacks a verified archive with the system's tar or unzip. */
export function extractArchive(archive: string, dir: string, kind: 'tar' | 'zip'): void {
  const [cmd, args] =
    kind === 'tar' ? ['tar', ['-xf', archive, '-C', dir]] : ['unzip', ['-q', '-o', archive, '-d', dir]];
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr?.toString().trim() ?? `exit ${r.status}`);
    throw new ResdetError(
      `${archive}: could not unpack with ${cmd} (${why})`,
      `install ${cmd}, or unpack it by hand into ${dir}`,
    );
  }
}

export interface DatasetDownloadResult {
  dataset: string;
  dir: string;
  files: DownloadResult[];
  usage: string;
}

/** `resdet data download NAME --to DIR`: every file of the dataset, verified and unpacked. */
export async function downloadDataset(
  name: string,
  dir: string,
  opts: DownloadOptions & { extract?: boolean } = {},
): Promise<DatasetDownloadResult> {
  const source = datasetSource(name);
  const files: DownloadResult[] = [];
  for (const f of source.files) {
    const r = await downloadFile(f, dir, opts);
    files.push(r);
    if (f.extract !== 'none' && opts.extract !== false && r.status !== 'cached')
      extractArchive(r.file, dir, f.extract);
  }
  return { dataset: name, dir, files, usage: source.usage.replace('DIR', dir) };
}
