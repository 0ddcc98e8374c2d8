/**
 * `--classes` values: a count, "imagenet" or names. A negative or fractional number is a mistyped
 * count (exit 2), not the name of one class called "-3".
 */
import { describe, expect, it } from 'vitest';
import { parseClassNames } from '../../backbone/classifier.js';
import { UsageError } from '../../core/errors.js';

const imagenet = () => ['tench', 'goldfish'];

describe('parseClassNames', () => {
  it('reads counts, imagenet and name lists', () => {
    expect(parseClassNames('3', imagenet)).toEqual(['0', '1', '2']);
    expect(parseClassNames('ImageNet', imagenet)).toEqual(['tench', 'goldfish']);
    expect(parseClassNames(' cat, dog ', imagenet)).toEqual(['cat', 'dog']);
    expect(parseClassNames('abc', imagenet)).toEqual(['abc']);
  });

  it('refuses numbers that are not a count >= 1, and bad name lists, as usage errors', () => {
    for (const bad of ['-3', '1.5', '0', '-0', '1e3', 'a,,b', 'a,a', ' ']) {
      expect(() => parseClassNames(bad, imagenet), bad).toThrow(UsageError);
    }
    expect(() => parseClassNames('-3', imagenet)).toThrow(
      /--classes: expected a whole number of classes, got -3/,
    );
  });
});
