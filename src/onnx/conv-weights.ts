/**
 * TensorFlow.js kernels to ONNX weights. tfjs keeps conv kernels as [kh, kw, in, out] and depthwise kernels as
 * [kh, kw, in, multiplier]; ONNX Conv wants [out, in / group, kh, kw], and a depthwise conv (group = in) has output
 * channel `c * multiplier + m`, as tfjs does.
 */
export function convKernelToOihw(kernel: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = kernel[((y * kw + x) * ci + i) * co + o];
  return out;
}

export function depthwiseKernelToOihw(kernel: Float32Array, [kh, kw, ci, mult]: number[]): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let m = 0; m < mult; m++) out[((i * mult + m) * kh + y) * kw + x] = kernel[((y * kw + x) * ci + i) * mult + m];
  return out;
}

/**
 * TensorFlow's "same" padding along one axis: the output has ceil(in / stride) positions and the padding that
 * needs is split with the odd one at the end (so stride 2 on an even size pads 0 before and 1 after).
 */
export function samePadding(inSize: number, kernel: number, stride: number, dilation = 1): [before: number, after: number] {
  const effective = (kernel - 1) * dilation + 1;
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Batch norm as y = x * scale + shift per channel (inference: moving statistics). */
export function batchNormAffine(
  gamma: Float32Array | null,
  beta: Float32Array | null,
  mean: Float32Array,
  variance: Float32Array,
  epsilon: number,
): { scale: Float32Array; shift: Float32Array } {
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}
