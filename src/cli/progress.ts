import cliProgress from 'cli-progress';
import type { Progress } from '../progress/index.js';

export type { Progress };

/**
 * A progress callback for long work. On a terminal it draws a bar on stderr; elsewhere (CI logs, notebooks)
 * it prints a line every 10%. Library code takes an optional `Progress` and never draws anything itself.
 */
export function progressBar(title: string): Progress & { stop(): void } {
  const tty = process.stderr.isTTY;
  let bar: cliProgress.SingleBar | undefined;
  let lastTenth = -1;
  const fn = ((done: number, total: number, label?: string) => {
    if (tty) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: `${title} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {label}`, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { label: label ?? '' });
      }
      bar.setTotal(total);
      bar.update(done, { label: label ?? '' });
    } else {
      const tenth = total > 0 ? Math.floor((10 * done) / total) : 10;
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${title}: ${done}/${total}${label ? ' ' + label : ''}\n`);
      }
    }
  }) as Progress & { stop(): void };
  fn.stop = () => bar?.stop();
  return fn;
}
