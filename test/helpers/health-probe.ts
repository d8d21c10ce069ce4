import { Worker } from 'node:worker_threads';

/**
 * GET `url` one request after another (a pause of `pauseMs` between them) from a worker thread until `stop()`,
 * and return the latencies in ms. A thread of its own, so the test's main thread building or sending large
 * request bodies does not delay the probe's requests or responses: what is measured is the server's answer time.
 */
export function startHealthProbe(url: string, pauseMs = 25): { stop(): Promise<number[]> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    let stop = false;
    const samples = [];
    parentPort.on('message', () => { stop = true; });
    (async () => {
      while (!stop) {
        const t0 = performance.now();
        try {
          const res = await fetch(workerData.url, { signal: AbortSignal.timeout(30000) });
          await res.arrayBuffer();
          samples.push(performance.now() - t0);
        } catch (err) {
          samples.push(performance.now() - t0);
        }
        await new Promise((r) => setTimeout(r, workerData.pauseMs));
      }
      parentPort.postMessage(samples);
    })();
  `;
  const worker = new Worker(code, { eval: true, workerData: { url, pauseMs } });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', (samples: number[]) => resolve(samples));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      try {
        return await done;
      } finally {
        await worker.terminate();
      }
    },
  };
}
