import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASET_SOURCES, downloadFile, extractArchive, type RemoteFile } from '../../data/download.js';
import { runCli } from '../helpers/cli.js';

/** Files the local server serves, and what it was asked for. */
const files = new Map<string, Buffer>();
const requests: { path: string; range?: string }[] = [];
/** Paths whose next response is cut after half the bytes (a dropped connection). */
const cutOnce = new Set<string>();
/** Paths served without Range support (always 200, whole file). */
const noRanges = new Set<string>();
let server: Server;
let base: string;

function body(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, range: req.headers.range });
    const data = files.get(path);
    if (!data) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !noRanges.has(path)) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, {
        'content-length': data.length - start,
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      });
    } else res.writeHead(200, { 'content-length': data.length });
    const rest = data.subarray(start);
    if (cutOnce.delete(path)) {
      res.write(rest.subarray(0, rest.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function remote(name: string, data: Buffer, md5sum = md5(data)): RemoteFile {
  files.set(`/${name}`, data);
  return { url: `${base}/${name}`, md5: md5sum, extract: 'none' };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'resdet-dl-'));
const quiet = { silent: true, log: () => {} };

describe('resumable, verified downloads from a local HTTP server', () => {
  it('downloads, verifies and then finds the file cached', async () => {
    const dir = tmp();
    const data = body(1, 300_000);
    const f = remote('a.bin', data);
    const r = await downloadFile(f, dir, quiet);
    expect(r.status).toBe('downloaded');
    expect(readFileSync(join(dir, 'a.bin')).equals(data)).toBe(true);
    expect(existsSync(join(dir, 'a.bin.part'))).toBe(false);
    const again = await downloadFile(f, dir, quiet);
    expect(again.status).toBe('cached');
  });

  it('continues an interrupted transfer with a Range request', async () => {
    const dir = tmp();
    const data = body(2, 2_500_000);
    const f = remote('b.bin', data);
    cutOnce.add('/b.bin');
    const before = requests.length;
    const r = await downloadFile(f, dir, quiet);
    expect(r.status).toBe('resumed');
    expect(readFileSync(join(dir, 'b.bin')).equals(data)).toBe(true);
    const mine = requests.slice(before).filter((q) => q.path === '/b.bin');
    expect(mine.length).toBe(2);
    expect(mine[0].range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(mine[1].range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThan(data.length);
  });

  it('a later run continues a partial file left by an earlier one; a server without ranges restarts it', async () => {
    const dir = tmp();
    const data = body(3, 400_000);
    const f = remote('c.bin', data);
    writeFileSync(join(dir, 'c.bin.part'), data.subarray(0, 123_456));
    const before = requests.length;
    expect((await downloadFile(f, dir, quiet)).status).toBe('resumed');
    expect(requests[before].range).toBe('bytes=123456-');
    expect(readFileSync(join(dir, 'c.bin')).equals(data)).toBe(true);

    const g = remote('d.bin', body(4, 200_000));
    noRanges.add('/d.bin');
    writeFileSync(join(dir, 'd.bin.part'), Buffer.alloc(5000, 9)); // stale bytes the server cannot continue
    expect((await downloadFile(g, dir, quiet)).status).toBe('downloaded');
    expect(md5(readFileSync(join(dir, 'd.bin')))).toBe(g.md5);
  });

  it('a checksum mismatch is an error that deletes the partial file', async () => {
    const dir = tmp();
    const f = remote('e.bin', body(5, 100_000), '0123456789abcdef0123456789abcdef');
    await expect(downloadFile(f, dir, { ...quiet, retries: 0 })).rejects.toThrow(
      /e\.bin: checksum mismatch \(MD5 [0-9a-f]{32}, expected 0123456789abcdef0123456789abcdef\)/,
    );
    expect(existsSync(join(dir, 'e.bin'))).toBe(false);
    expect(existsSync(join(dir, 'e.bin.part'))).toBe(false);
  });

  it('unpacks tar archives', () => {
    const src = tmp();
    mkdirSync(join(src, 'cifar-10-batches-bin'));
    writeFileSync(join(src, 'cifar-10-batches-bin', 'x.bin'), 'hello');
    const archive = join(tmp(), 'a.tar.gz');
    expect(spawnSync('tar', ['-czf', archive, '-C', src, 'cifar-10-batches-bin']).status).toBe(0);
    const out = tmp();
    extractArchive(archive, out, 'tar');
    expect(readFileSync(join(out, 'cifar-10-batches-bin', 'x.bin'), 'utf8')).toBe('hello');
  });

  it('the CLI fetches the official file names and reports a mirror serving other bytes', async () => {
    for (const f of DATASET_SOURCES['fashion-mnist'].files) {
      files.set(`/${new URL(f.url).pathname.split('/').pop()}`, body(6, 1000));
    }
    const dir = tmp();
    const r = await runCli([
      'data',
      'download',
      'fashion-mnist',
      '--to',
      dir,
      '--base-url',
      base,
      '--retries',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /train-images-idx3-ubyte\.gz: checksum mismatch .* expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d/,
    );
    const u = await runCli(['data', 'download', 'mnist', '--to', dir]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown dataset "mnist"/);
  }, 60_000);
});
