/**
 * Load shedding for the HTTP server. When more requests are in flight than the server can finish
 * quickly, or its event loop lags, a new request is refused at once with 503 and `Retry-After`
 * instead of queueing behind the others for minutes: a client (or its retry policy) then comes back
 * later, and what was accepted keeps a short latency. A write the local database refuses as busy
 * (SQLite's `SQLITE_BUSY` under FerretDB, a full connection pool) is answered the same way, never as a
 * 500: nothing was stored, and the same request succeeds when retried.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface LoadSheddingOptions {
  /** Requests handled at once; the next one is refused (503) until one finishes. */
  maxInFlight: number;
  /**
   * Event loop delay (p99 over the last second, ms) above which new requests are refused; 0 = not
   * checked (the default: on a shared, busy machine a stalled loop is often the neighbours' doing, and
   * the in-flight limit already bounds the queue).
   */
  maxEventLoopDelayMs: number;
  /** Seconds a refused client is asked to wait (`Retry-After`). */
  retryAfterSeconds: number;
}

/** Paths never refused: probes must see the truth, and they cost nothing. */
const EXEMPT = /^\/(health|healthz|readyz)(\/|\?|$)/;

/** Errors that mean "the database is busy right now", not "the request is wrong" or "the code is broken". */
const BUSY = /SQLITE_BUSY|database is locked|MongoWaitQueueTimeoutError|WaitQueueTimeout/;

/** Options from the environment: SOJOURN_MAX_IN_FLIGHT, SOJOURN_MAX_EVENT_LOOP_DELAY_MS, SOJOURN_RETRY_AFTER_S. */
export function loadSheddingOptions(env: NodeJS.ProcessEnv = process.env): LoadSheddingOptions {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && name === 'SOJOURN_MAX_IN_FLIGHT')) throw new Error(`${name} must be a positive number, got "${raw}"`);
    return n;
  };
  return {
    maxInFlight: num('SOJOURN_MAX_IN_FLIGHT', 64),
    maxEventLoopDelayMs: num('SOJOURN_MAX_EVENT_LOOP_DELAY_MS', 0),
    retryAfterSeconds: num('SOJOURN_RETRY_AFTER_S', 2),
  };
}

const busyRequests = new WeakSet<FastifyRequest>();

/** Installs the limits on `app` (before its routes, so every route gets them). */
export function installLoadShedding(app: FastifyInstance, opts: LoadSheddingOptions = loadSheddingOptions()): void {
  let inFlight = 0;
  let lagging = false;
  if (opts.maxEventLoopDelayMs > 0) {
    const delay = monitorEventLoopDelay({ resolution: 20 });
    delay.enable();
    const timer = setInterval(() => {
      lagging = delay.percentile(99) / 1e6 > opts.maxEventLoopDelayMs;
      delay.reset();
    }, 1000);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      delay.disable();
    });
  }

  const body = (message: string) => ({ error: { code: 'E_OVERLOADED', message, pointer: '' } });

  app.addHook('onRequest', async (req, reply) => {
    if (EXEMPT.test(req.url)) return;
    if (inFlight >= opts.maxInFlight || lagging) {
      return reply
        .code(503)
        .header('retry-after', String(opts.retryAfterSeconds))
        .send(body(`the server is busy (${lagging ? 'event loop lagging' : `${inFlight} requests in flight`}); retry after ${opts.retryAfterSeconds} s`));
    }
    inFlight++;
    let released = false;
    reply.raw.once('close', () => {
      if (!released) {
        released = true;
        inFlight--;
      }
    });
  });

  app.addHook('onError', async (req, _reply, err) => {
    if (BUSY.test(`${err.name} ${err.message}`)) busyRequests.add(req);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode < 500 || !busyRequests.has(req)) return payload;
    reply.code(503).header('retry-after', String(opts.retryAfterSeconds)).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(body(`the database is busy; nothing was stored; retry after ${opts.retryAfterSeconds} s`));
  });
}
