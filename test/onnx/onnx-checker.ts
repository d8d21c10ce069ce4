import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CANDIDATES = [process.env.AREYOUACAT_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);

let python: Promise<string | null> | undefined;

/** A Python with the `onnx` package (Debian's python3-onnx), or null: the check is optional. */
function pythonWithOnnx(): Promise<string | null> {
  python ??= (async () => {
    for (const candidate of CANDIDATES) {
      try {
        await run(candidate, ['-c', 'import onnx'], { timeout: 60_000 });
        return candidate;
      } catch {
        // next
      }
    }
    return null;
  })();
  return python;
}

/** Check an exported model with `onnx.checker` (full check, with shape inference) when a Python has onnx; else nothing. */
export async function checkWithOnnxPackage(bytes: Uint8Array): Promise<void> {
  const py = await pythonWithOnnx();
  if (!py) return;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-check-'));
  try {
    const file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, bytes);
    await run(py, ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { timeout: 120_000 });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
