import * as tf from '@tensorflow/tfjs';

/**
 * TF.js 4.22 has no gradient for StridedSlice. resdet's own nets do not need one (the option-A
 * shortcut subsamples with a strided [I | 0] 1x1 conv instead, see backbone/resnet.ts); this is for
 * user models that slice with strides: positive strides, no masks, each axis scattering dy back
 * to every stride-th position starting at `begin`.
 * Registered once, only when TF.js has none (a later TF.js that ships one wins).
 */
export function ensureStridedSliceGradient(): void {
  if (tf.getGradient('StridedSlice')) return;
  tf.registerGradient({
    kernelName: 'StridedSlice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const a = attrs as unknown as {
        begin: number[];
        strides: number[];
        beginMask: number;
        endMask: number;
        ellipsisMask: number;
        newAxisMask: number;
        shrinkAxisMask: number;
      };
      if (a.beginMask || a.endMask || a.ellipsisMask || a.newAxisMask || a.shrinkAxisMask) {
        throw new Error('StridedSlice gradient: masks are not supported');
      }
      const g = dy as tf.Tensor;
      return {
        x: () =>
          tf.tidy(() => {
            let t = g;
            for (let axis = 0; axis < x.rank; axis++) {
              const s = a.strides[axis] ?? 1;
              const n = x.shape[axis];
              const b = Math.min(
                n,
                Math.max(0, (a.begin[axis] ?? 0) < 0 ? n + a.begin[axis] : (a.begin[axis] ?? 0)),
              );
              if (s <= 0) throw new Error('StridedSlice gradient: negative strides are not supported');
              const m = t.shape[axis];
              if (s > 1 && m > 0) {
                // Interleave s-1 zero slices after every slice along `axis`.
                const zerosShape = [...t.shape];
                zerosShape.splice(axis + 1, 0, s - 1);
                const parts = tf.concat([t.expandDims(axis + 1), tf.zeros(zerosShape, t.dtype)], axis + 1);
                const spread = [...t.shape];
                spread[axis] = m * s;
                t = parts.reshape(spread);
              }
              const len = Math.min(t.shape[axis], n - b);
              const begin = t.shape.map(() => 0);
              const size = [...t.shape];
              size[axis] = len;
              t = tf.slice(t, begin, size);
              const pads = t.shape.map(() => [0, 0] as [number, number]);
              pads[axis] = [b, n - b - len];
              t = tf.pad(t, pads);
            }
            return t;
          }),
      };
    },
  });
}
