import net from 'node:net';

/** The port a server is to listen on is taken (or cannot be bound): said before any work starts. */
export class PortUnavailableError extends Error {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use: pick another with --port (npm start -- --port N)`
        : `cannot listen on ${host}:${port}: ${detail}`,
    );
    this.name = 'PortUnavailableError';
  }
}

/**
 * Hold `port` on `host` until `release()`: a long first run (ingest, training, the site build) checks its port first
 * and keeps it, so it neither finds out minutes later nor loses it to another process meanwhile. Port 0 is always
 * free (the server picks one when it listens) and is not held.
 */
export async function reservePort(port: number, host: string): Promise<{ release: () => Promise<void> }> {
  if (port === 0) return { release: async () => undefined };
  const holder = net.createServer();
  holder.unref();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', (err: NodeJS.ErrnoException) => reject(new PortUnavailableError(port, host, err.code, err.message)));
    holder.listen({ port, host, exclusive: true }, () => resolve());
  });
  return { release: () => new Promise<void>((resolve) => holder.close(() => resolve())) };
}
