/**
 * Rate limits and security headers for the two HTTP surfaces. Registered by server/app.ts around
 * the API context and the public-endpoint context, so every route in either (including routes added
 * later) is covered.
 *
 * Rate limits (@fastify/rate-limit, in memory, per process, per client address as fastify sees it,
 * i.e. the socket address unless SOJOURN_TRUST_PROXY is set): the API 1,200 requests a minute, the
 * public endpoints 300 a minute (SOJOURN_RATE_LIMIT_API / SOJOURN_RATE_LIMIT_PUBLIC; 0 turns one
 * off). In development mode loopback clients are not limited, so the demo and the test suites are not
 * throttled. Over the limit: 429 with Retry-After.
 *
 * Headers (@fastify/helmet): a strict Content-Security-Policy (no scripts at all; the pages only
 * have inline styles and a form posting to themselves), no framing, no referrer, nosniff. The
 * open pixel stays loadable from any origin (Cross-Origin-Resource-Policy: cross-origin), since
 * webmail shows it from its own.
 */
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../lib/config';

export interface RateLimits {
  /** Requests a minute per client on /v1 (0: no limit). */
  apiPerMinute: number;
  /** Requests a minute per client on the public endpoints (0: no limit). */
  publicPerMinute: number;
  /** Loopback clients are not limited (development mode only). */
  exemptLoopback: boolean;
}

export const DEFAULT_RATE_LIMITS = { apiPerMinute: 1200, publicPerMinute: 300 } as const;

/** Content-Security-Policy of every page behind an email link. */
export const PAGE_CSP = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

class RateLimitedError extends Error {
  readonly statusCode = 429;
  readonly code = 'E_RATE_LIMIT';
  constructor(after: string) {
    super(`too many requests; retry in ${after}`);
    this.name = 'RateLimitedError';
  }
}

/** CSP directives in @fastify/helmet's form. */
export type CspDirectives = Record<string, string[]>;

/**
 * Registers the rate limit (when not 0) and the security headers on `app` (an encapsulated context).
 * The dashboard has the public endpoints' rate limit; `csp` replaces the page policy for a surface whose
 * pages run their own scripts (the dashboard: scripts from this origin only).
 */
export async function protect(app: FastifyInstance, config: Pick<Config, 'rateLimits'>, surface: 'api' | 'public' | 'dashboard', csp: CspDirectives = PAGE_CSP): Promise<void> {
  const limits = config.rateLimits ?? { ...DEFAULT_RATE_LIMITS, exemptLoopback: false };
  const max = surface === 'api' ? limits.apiPerMinute : limits.publicPerMinute;
  if (max > 0) {
    await app.register(rateLimit, {
      max,
      timeWindow: 60_000,
      keyGenerator: (req: FastifyRequest) => req.ip,
      allowList: limits.exemptLoopback ? (req: FastifyRequest) => LOOPBACK.test(req.ip) : undefined,
      errorResponseBuilder: (_req, ctx) => new RateLimitedError(ctx.after),
    });
  }
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: csp },
    crossOriginResourcePolicy: { policy: surface === 'public' ? 'cross-origin' : 'same-origin' },
    // The dashboard's forms need their Origin header (a browser sends "null" under no-referrer); same-origin still tells other sites nothing.
    referrerPolicy: { policy: surface === 'dashboard' ? 'same-origin' : 'no-referrer' },
  });
}
