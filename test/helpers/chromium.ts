import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';

/**
 * A headless Chromium for the browser test that needs nothing from the system: the build that
 * the @sparticuz/chromium devDependency ships inside its npm tarball (brotli-compressed, linux
 * x64), unpacked into a temporary directory with the NSS/expat libraries and fonts it needs on a
 * bare machine, and removed again by `close()`. Debian's /usr/bin/chromium is the fallback where
 * that build cannot run (another CPU architecture).
 */
export interface TestBrowser {
  browser: Browser;
  /** Which Chromium runs: 'npm:@sparticuz/chromium@VERSION' or the system path. */
  source: string;
  close(): Promise<void>;
}

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** The regular files and directories of an uncompressed tar archive, written under `to`. */
function untar(tar: Buffer, to: string): void {
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const path = join(to, name);
    if (!path.startsWith(to)) throw new Error(`tar entry ${name} points outside ${to}`);
    if (type === '5') mkdirSync(path, { recursive: true });
    else if (type === '0') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, tar.subarray(off + 512, off + 512 + size), { mode: 0o755 });
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

function packageBuild(dir: string): { executable: string; env: Record<string, string>; version: string } {
  const require = createRequire(import.meta.url);
  // The package exports only its entry point: build/cjs/index.cjs, two levels below its root.
  const root = join(dirname(require.resolve('@sparticuz/chromium')), '..', '..');
  const bin = join(root, 'bin');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  const executable = join(dir, 'chromium');
  writeFileSync(executable, brotliDecompressSync(readFileSync(join(bin, 'chromium.br'))), { mode: 0o755 });
  for (const archive of ['al2023.tar.br', 'fonts.tar.br', 'swiftshader.tar.br']) {
    untar(brotliDecompressSync(readFileSync(join(bin, archive))), dir);
  }
  writeFileSync(
    join(dir, 'fonts.conf'),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>${join(dir, 'fonts')}</dir><cachedir>${join(dir, 'fontcache')}</cachedir></fontconfig>\n`,
  );
  return {
    executable,
    version,
    env: {
      LD_LIBRARY_PATH: [join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_PATH: dir,
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
      HOME: dir,
    },
  };
}

/**
 * Playwright makes its profile and artifacts directories in os.tmpdir() at launch: pointed at
 * `dir` for the launch, they go when `dir` does, even after a failed launch.
 */
async function launchIn(dir: string, options: Parameters<typeof chromium.launch>[0]): Promise<Browser> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await chromium.launch(options);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

export async function launchTestChromium(args: string[]): Promise<TestBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'resdet-chromium-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let packaged: Error | undefined;
  if (arch() === 'x64') {
    try {
      const build = packageBuild(dir);
      const browser = await launchIn(dir, {
        executablePath: build.executable,
        args,
        env: { ...process.env, ...build.env },
      });
      return {
        browser,
        source: `npm:@sparticuz/chromium@${build.version}`,
        close: async () => {
          await browser.close();
          cleanup();
        },
      };
    } catch (err) {
      packaged = err as Error;
    }
  }
  if (!existsSync(SYSTEM_CHROMIUM)) {
    cleanup();
    throw new Error(
      `no Chromium to run: the @sparticuz/chromium build ${packaged ? `failed (${packaged.message})` : `is for x64, this is ${arch()}`}, and ${SYSTEM_CHROMIUM} is not installed`,
    );
  }
  const browser = await launchIn(dir, { executablePath: SYSTEM_CHROMIUM, args });
  return {
    browser,
    source: SYSTEM_CHROMIUM,
    close: async () => {
      await browser.close();
      cleanup();
    },
  };
}
