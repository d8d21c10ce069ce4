/**
 * A layer, activation, op or setting the ONNX exporter does not know how to write. Thrown instead of writing a
 * graph that would compute something else; `op` names what was met (e.g. `layer LSTM`, `activation selu`).
 */
export class UnsupportedOnnxOpError extends Error {
  override readonly name = 'UnsupportedOnnxOpError';
  constructor(
    readonly op: string,
    detail?: string,
  ) {
    super(`the ONNX exporter does not support ${op}${detail ? `: ${detail}` : ''}; nothing was exported`);
  }
}

/** An export that cannot be written as asked (a missing layer name, an input of the wrong rank, ...). */
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
}
