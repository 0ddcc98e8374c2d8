import * as tf from '@tensorflow/tfjs';

/**
 * Identity and same-dtype Cast without a copy on wasm. TF.js clones every tensor a gradient
 * needs (engine.saveTensorsForBackwardMode -> clone -> Identity) and tf.moments casts float32 to
 * float32; the wasm kernels copy each time (~580 copies of activations per ResNet-20 step). The
 * cpu and webgl backends share the data instead (incRef), which is safe because no kernel writes
 * into its inputs; this does the same on wasm and leaves other cases to the package's kernels.
 */
interface RefCounting {
  incRef(dataId: object): void;
}

function shareOrElse(
  original: tf.KernelConfig,
  share: (inputs: tf.NamedTensorInfoMap, attrs?: tf.NamedAttrMap) => boolean,
): tf.KernelConfig {
  return {
    kernelName: original.kernelName,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (!share(args.inputs, args.attrs)) return original.kernelFunc(args);
      (args.backend as RefCounting).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}

/** The zero-copy kernels, wrapping the package's own (which must be registered already). */
export function zeroCopyKernels(): tf.KernelConfig[] {
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!identity || !cast) throw new Error('resdet wasm kernels: tfjs-backend-wasm is not loaded');
  return [
    shareOrElse(identity, (inputs) => (inputs.x as tf.TensorInfo).dtype !== 'string'),
    shareOrElse(cast, (inputs, attrs) => {
      const x = inputs.x as tf.TensorInfo;
      return x.dtype !== 'string' && x.dtype === (attrs as { dtype: string }).dtype;
    }),
  ];
}
