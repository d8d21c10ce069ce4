import net from 'node:net';

/**
 * What the proxy does with traffic:
 * - `forward`: pass bytes both ways (a healthy network);
 * - `stall`: accept connections and never answer (upstream not contacted; bytes from the client are swallowed),
 *   the way a hung server or a black-holed route behaves;
 * - `drop`: accept connections and reset them at once;
 * - `slow`: forward, but hold every chunk for `slowDelayMs` in each direction.
 * A mode change applies to new connections; `cut()` closes the open ones.
 */
export type ProxyMode = 'forward' | 'stall' | 'drop' | 'slow';

/** A TCP forwarder that a test controls: stop (ECONNREFUSED) and start again on the same port, stall, drop, slow. */
export class TcpProxy {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  port = 0;
  mode: ProxyMode = 'forward';
  /** Delay per chunk in `slow` mode. */
  slowDelayMs = 500;
  /** Connections accepted so far, by the mode they were handled in. */
  readonly accepted: Record<ProxyMode, number> = { forward: 0, stall: 0, drop: 0, slow: 0 };

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port || (u.protocol === 'https:' ? 443 : 80)));
  }

  /** A server that accepts connections and never answers (no upstream). */
  static async stalling(): Promise<TcpProxy> {
    const p = new TcpProxy('127.0.0.1', 1);
    p.mode = 'stall';
    await p.start();
    return p;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections open right now (client and upstream sides). */
  get openSockets(): number {
    return this.sockets.size;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private handle(client: net.Socket): void {
    const mode = this.mode;
    this.accepted[mode]++;
    this.track(client);
    if (mode === 'drop') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'stall') {
      client.on('error', () => client.destroy());
      client.resume(); // read and discard: the peer's writes succeed, nothing ever comes back
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.track(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    if (mode === 'forward') {
      client.pipe(upstream);
      upstream.pipe(client);
      return;
    }
    const delayed = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => {
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, this.slowDelayMs);
      });
      from.on('end', () => setTimeout(() => to.end(), this.slowDelayMs));
    };
    delayed(client, upstream);
    delayed(upstream, client);
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => this.handle(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Close every open connection (the listener stays). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Switch mode for new connections and cut the open ones, so that nothing keeps the old behaviour. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    this.cut();
  }

  /** Refuse new connections and cut the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
