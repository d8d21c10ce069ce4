import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

/** onnxruntime-node, or why it could not be loaded on this platform (then use the tfjs-wasm path). */
export type OnnxRuntimeLoad = { available: true; ort: typeof Ort; reason?: undefined } | { available: false; ort?: undefined; reason: string };

let load: OnnxRuntimeLoad | undefined;

/**
 * Load onnxruntime-node once, from the project root (so tsx, vitest and CommonJS notebooks find the same package).
 * A platform without its binaries gives `{ available: false, reason }`, the same object on every call, so a
 * caller can say so once and fall back to tfjs-wasm.
 */
export function loadOnnxRuntime(): OnnxRuntimeLoad {
  if (!load) {
    try {
      // A variable specifier: the package is loaded at run time only, and may be missing or fail to load.
      const name = 'onnxruntime-node';
      const ort = createRequire(path.join(process.cwd(), 'package.json'))(name) as typeof Ort;
      load = { available: true, ort };
    } catch (err) {
      load = { available: false, reason: `onnxruntime-node cannot be loaded on ${process.platform}-${process.arch}: ${(err as Error).message}` };
    }
  }
  return load;
}

/**
 * The default intra-op threads of a session: the machine's cores, at most two. Measured on this project's 2-core
 * machine (MobileNet v1 0.75 features, batch 16, 224x224): with the machine to itself, two threads ran about 1.7x
 * one thread's images/s; with other processes on the cores (load average 5), two threads ran 0.6-1.0x one. So a
 * process that shares the machine with other workers (one process or worker thread per core) should ask for one.
 */
export function defaultIntraOpThreads(): number {
  return Math.max(1, Math.min(2, os.availableParallelism()));
}

export interface OnnxSessionOptions {
  /** Threads one inference uses (default `defaultIntraOpThreads()`). */
  intraOpNumThreads?: number;
  /**
   * Whether idle intra-op threads spin waiting for work (ONNX Runtime's default) instead of sleeping. Spinning
   * wins on an idle machine and loses badly when other processes want the cores; default false.
   */
  spinning?: boolean;
}

/** A float32 tensor: data and shape. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** ONNX Runtime could not be loaded; `reason` says why (platform, missing package). */
export class OnnxRuntimeUnavailableError extends Error {
  override readonly name = 'OnnxRuntimeUnavailableError';
}

/** One ONNX model loaded in ONNX Runtime (CPU), with one float32 input and output. */
export class OnnxSession {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly intraOpNumThreads: number,
  ) {}

  /** Names of the model's inputs and outputs. */
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Load a model from its bytes. Throws OnnxRuntimeUnavailableError when onnxruntime-node cannot load here. */
  static async create(model: Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const loaded = loadOnnxRuntime();
    if (!loaded.available) throw new OnnxRuntimeUnavailableError(loaded.reason);
    const threads = options.intraOpNumThreads ?? defaultIntraOpThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`intraOpNumThreads must be a positive integer (got ${threads})`);
    const session = await loaded.ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
    });
    return new OnnxSession(loaded.ort, session, threads);
  }

  /**
   * Run a float32 input (e.g. a batch of NHWC pixels, `dims` [n, h, w, 3]) through the model and return its first
   * output (or the one named `outputName`) as float32.
   */
  async run(input: FloatTensor, outputName: string = this.session.outputNames[0]): Promise<FloatTensor> {
    const size = input.dims.reduce((a, b) => a * b, 1);
    if (size !== input.data.length) throw new Error(`input of ${input.data.length} values does not have dims [${input.dims.join(', ')}]`);
    const feeds = { [this.session.inputNames[0]]: new this.ort.Tensor('float32', input.data, input.dims) };
    // The CPU arena gives back what this run grew it by: a server that once answered a wide batch does not keep
    // that batch's activations for good (measured on the hostile /v2 test: +149 MB kept after it without this, +35 to +60 MB with it; no cost in speed that a batch of 16 showed).
    const results = await this.session.run(feeds, [outputName], { extra: { memory: { enable_memory_arena_shrinkage: 'cpu:0' } } });
    const out = results[outputName];
    if (out.type !== 'float32') throw new Error(`output ${outputName} is ${out.type}, not float32`);
    return { data: out.data as Float32Array, dims: out.dims.slice() };
  }

  /** Free the session's native memory. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
