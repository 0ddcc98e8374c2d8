import { describeError, ResdetError } from '../core/errors.js';

/**
 * Runs `each` over the images of one command line. With several images, one that cannot be read
 * (a ResdetError: corrupt, truncated, not an image, or its drawing not written) is reported on stderr and passed over, so the
 * others' results are still printed; `finish` then fails the command (exit 1) saying how many were
 * passed over. A single image fails at once, as before. Any other error is a bug and propagates.
 */
export async function forEachImage<T>(
  images: readonly string[],
  each: (image: string) => Promise<T>,
): Promise<{ results: T[]; finish: () => void }> {
  const results: T[] = [];
  const failed: string[] = [];
  for (const image of images) {
    try {
      results.push(await each(image));
    } catch (err) {
      if (images.length === 1 || !(err instanceof ResdetError)) throw err;
      failed.push(image);
      process.stderr.write(`resdet: ${describeError(err)}\n`);
    }
  }
  const finish = (): void => {
    if (failed.length === 0) return;
    throw new ResdetError(
      `${failed.length} of ${images.length} images failed (first: ${failed[0]})`,
      'the results of the others were printed; the reasons are above',
    );
  };
  return { results, finish };
}
