/**
 * Keeps one local server running for `npm start`: when its process dies unexpectedly it is started
 * again after a backoff (1 s, doubling to 30 s; back to 1 s once it has stayed up for a minute), and
 * each restart is announced, so one crash of `sojourn serve` or the SMTP sink does not take the whole
 * stack down with it.
 */
import type { RunningServer } from './servers';

export interface SupervisorOptions {
  name: string;
  /** Spawns the process and resolves once it serves (e.g. its port answers). */
  start: () => Promise<RunningServer>;
  log: (msg: string) => void;
  /** Called after each unexpected exit, before the backoff (e.g. to print the last log lines). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** First delay; doubles per consecutive crash up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Up this long without a crash: the next crash starts the backoff afresh. */
  stableMs?: number;
}

/** A RunningServer whose process is restarted when it dies; stop() stops it for good. */
export interface Supervised extends RunningServer {
  /** How many times the process was restarted after dying. */
  restarts(): number;
}

export async function supervise(opts: SupervisorOptions): Promise<Supervised> {
  const base = opts.backoffMs ?? 1_000;
  const max = opts.maxBackoffMs ?? 30_000;
  const stableMs = opts.stableMs ?? 60_000;
  let current = await opts.start();
  let stopped = false;
  let restarts = 0;
  let consecutive = 0;
  let upSince = Date.now();
  let pending: NodeJS.Timeout | null = null;

  const watch = (srv: RunningServer) => {
    srv.child.once('exit', (code, signal) => {
      if (stopped || srv !== current) return;
      // What the dead process left in its group (e.g. tsx's inner node holding the port) goes too.
      try {
        if (srv.child.pid) process.kill(-srv.child.pid, 'SIGKILL');
      } catch {
        /* nothing left */
      }
      if (Date.now() - upSince >= stableMs) consecutive = 0;
      const delay = Math.min(max, base * 2 ** consecutive);
      consecutive++;
      opts.onExit?.(code, signal);
      opts.log(`${opts.name} exited (${signal ? `signal ${signal}` : `code ${code}`}); restarting in ${(delay / 1000).toFixed(0)} s (restart #${restarts + 1})`);
      pending = setTimeout(() => {
        pending = null;
        void restart();
      }, delay);
    });
  };

  const restart = async () => {
    if (stopped) return;
    try {
      const next = await opts.start();
      if (stopped) {
        await next.stop();
        return;
      }
      current = next;
      restarts++;
      upSince = Date.now();
      opts.log(`${opts.name} is back (pid ${next.child.pid})`);
      watch(next);
    } catch (err) {
      const delay = Math.min(max, base * 2 ** consecutive);
      consecutive++;
      opts.log(`${opts.name} failed to start again: ${(err as Error).message.split('\n')[0]}; next try in ${(delay / 1000).toFixed(0)} s`);
      pending = setTimeout(() => {
        pending = null;
        void restart();
      }, delay);
    }
  };

  watch(current);
  return {
    name: opts.name,
    get child() {
      return current.child;
    },
    restarts: () => restarts,
    async stop() {
      stopped = true;
      if (pending) clearTimeout(pending);
      await current.stop();
    },
  };
}
