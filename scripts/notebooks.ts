// `npm run notebooks` starts Jupyter on 127.0.0.1 with a project-local TypeScript (tslab) kernel;
// `npm run notebooks:test` executes every notebook headless and fails with the failing cell's error.
// Nothing is installed globally: the kernelspec is written under data/jupyter and found through JUPYTER_PATH.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const jupyterPath = path.join(root, 'data', 'jupyter');
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function writeKernelspec(): void {
  const dir = path.join(jupyterPath, 'kernels', 'areyouacat-ts');
  fs.mkdirSync(dir, { recursive: true });
  const tslab = path.join(root, 'node_modules', '.bin', 'tslab');
  // The kernel starts in the project root so notebooks import the library as './src/...'.
  const spec = {
    argv: ['/bin/sh', '-c', `cd '${root}' && exec '${tslab}' kernel --config-path "$1"`, 'sh', '{connection_file}'],
    // A preload that keeps tslab's compiler from crashing when watched folders change (npm install) during a session.
    env: { NODE_OPTIONS: `--require "${path.join(root, 'src', 'notebook', 'kernel-preload.cjs')}"` },
    display_name: 'TypeScript (areyouacat)',
    language: 'typescript',
  };
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(spec, null, 2));
}

function requireKernel(): void {
  if (fs.existsSync(path.join(root, 'node_modules', 'tslab', 'package.json'))) return;
  process.stderr.write('the notebook kernel is not installed (tslab is a development dependency, left out by npm ci --omit=dev): npm install --include=dev\n');
  process.exit(1);
}

function requireJupyter(): void {
  const probe = spawnSync('jupyter', ['--version'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    process.stderr.write(
      'Jupyter is not installed. On Debian/Ubuntu:\n' +
        '  sudo apt-get install -y --no-install-recommends jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel\n',
    );
    process.exit(1);
  }
}

const env = { ...process.env, JUPYTER_PATH: jupyterPath, AREYOUACAT_NOTEBOOK: '1' };
const mode = process.argv[2] ?? 'start';
requireKernel();
requireJupyter();
writeKernelspec();

if (mode === 'test') {
  const only = process.argv.slice(3);
  const notebooks = (only.length ? only : fs.readdirSync('notebooks').filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join('notebooks', f)));
  if (notebooks.length === 0) {
    process.stderr.write('no notebooks found in notebooks/\n');
    process.exit(1);
  }
  const out = path.join(root, 'test-output', 'notebooks');
  const r = spawnSync(python, [path.join(root, 'scripts', 'execute_notebooks.py'), out, ...notebooks], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
} else {
  const port = process.env.PORT ?? '8888';
  const child = spawn('jupyter', ['notebook', '--ip=127.0.0.1', `--port=${port}`, '--no-browser', `--notebook-dir=${path.join(root, 'notebooks')}`], { stdio: 'inherit', env });
  child.on('exit', (code) => process.exit(code ?? 0));
}
