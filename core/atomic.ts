import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temp name in the same folder as `path`, so the final rename never crosses file systems. */
export function tempPathFor(path: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return join(dirname(path), `.tmp-${process.pid}-${rand}-${basename(path)}`);
}

/**
 * Writes chunks to a temp file, syncs it and renames it over `path`: readers see the old file or
 * the new one, never a half-written one, even when the process is killed mid-write.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array | string>): void {
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    // The temp name means nothing to the person who asked for `path`: report that instead.
    throw Object.assign(err as Error, { path });
  }
  try {
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let written = 0;
      while (written < bytes.byteLength) {
        written += writeSync(fd, bytes, written, bytes.byteLength - written);
      }
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    // e.g. `path` is a directory: leave nothing behind but the error.
    rmSync(tmp, { force: true });
    throw err;
  }
}
