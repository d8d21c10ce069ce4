import onnxProto from 'onnx-proto';

/** The ONNX protobuf messages (onnx-proto, on protobufjs). */
export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

/**
 * The opset every export targets: 13 is the first with Softmax over one axis and Squeeze/Unsqueeze/Split taking
 * their axes as inputs; onnx-proto 8 describes ONNX 1.10 (IR version 8), which ONNX Runtime 1.x loads.
 */
export const OPSET = 13;
export const IR_VERSION = 8;
