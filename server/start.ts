import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppOptions, appContext, createApp, Lifecycle } from './app.js';

export interface StartOptions extends AppOptions {
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Default 127.0.0.1: reachable from this machine only unless asked otherwise. */
  host?: string;
  /** After SIGTERM, how long in-flight requests may take before connections are cut. Default 30 s. */
  drainTimeoutMs?: number;
  /** Install SIGTERM/SIGINT handlers that drain and then resolve `closed`. Default true. */
  handleSignals?: boolean;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes. Idempotent. */
  shutdown(reason?: string): Promise<void>;
  /** Resolves once the server has closed (after a shutdown or a signal). */
  closed: Promise<void>;
}

/**
 * Listens with the app and drains on SIGTERM/SIGINT: /readyz turns 503 at once, new connections are
 * refused, keep-alive connections are closed as soon as they are idle, and `closed` resolves when
 * the last in-flight response has been sent (or the drain timeout cut the stragglers).
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const app = createApp({ ...options, lifecycle });
  const { queue } = appContext(app);
  const host = options.host ?? '127.0.0.1';
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 8080, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  // Slow or stalled uploads must not hold a connection forever.
  server.requestTimeout = Math.max(60_000, (options.timeoutMs ?? 0) * 2);
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let shuttingDown: Promise<void> | undefined;

  const shutdown = (reason = 'shutdown'): Promise<void> => {
    shuttingDown ??= (async () => {
      lifecycle.draining = true;
      log(`resdet serve: ${reason}: draining in-flight requests`);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // close() waits for open connections; idle keep-alive ones are closed now and as they go idle.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const deadline = setTimeout(() => {
        log(`resdet serve: drain timeout (${drainTimeoutMs} ms): closing remaining connections`);
        server.closeAllConnections();
      }, drainTimeoutMs);
      await done;
      clearInterval(sweep);
      clearTimeout(deadline);
      // A job whose client timed out may still be running: let it end before the models go away.
      await Promise.race([queue.idle(), new Promise((r) => setTimeout(r, drainTimeoutMs))]);
      removeSignals();
      log('resdet serve: stopped');
      resolveClosed();
    })();
    return shuttingDown;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    void shutdown(`received ${signal}`);
  };
  const removeSignals = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  if (options.handleSignals ?? true) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  return { server, url, port, shutdown, closed };
}
