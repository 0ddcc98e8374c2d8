import { readTextFile } from './read-text.js';

/**
 * Image ids of an image-set list (VOC's ImageSets/Main/<split>.txt): the first token of each
 * non-empty line, so the devkit's `<id> <flag>` per-class lists read the same way.
 */
export function parseImageSet(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((l) => l.length > 0);
}

/** parseImageSet of a file; a missing or unreadable file is an error naming it. */
export function readImageSet(path: string): string[] {
  return parseImageSet(readTextFile(path, 'image set'));
}
