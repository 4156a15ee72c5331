/**
 * Structured logs (pino) that never carry an email address or phone number in clear. Known PII keys
 * are redacted by path; free text is scrubbed by `scrubPii` where a message might echo input.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Keys whose values are personal data wherever they appear (two levels deep, plus request bodies). */
const PII_KEYS = ['email', 'emailKey', 'aliasKey', 'phone', 'phones', 'e164', 'firstName', 'lastName', 'address', 'ip', 'userAgent'];
export const REDACT_PATHS = [
  ...PII_KEYS,
  ...PII_KEYS.map((k) => `*.${k}`),
  ...PII_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

export function createLogger(opts: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: process.env.LOG_LEVEL || (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    ...opts,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Request and response serializers for the HTTP server's logs. Fastify's defaults log the full URL
 * (live unsubscribe and click tokens, query strings that may carry an address) and the client
 * address; these keep only the method, the route pattern and the status.
 */
export const httpLogSerializers = {
  req(req: { method?: string; id?: string; routeOptions?: { url?: string } }) {
    return { method: req.method, route: req.routeOptions?.url ?? null, id: req.id };
  },
  res(reply: { statusCode?: number }) {
    return { statusCode: reply.statusCode };
  },
  err(err: { message?: string; code?: string; type?: string; name?: string; statusCode?: number }) {
    return { type: err.name ?? err.type, code: err.code, statusCode: err.statusCode, message: err.message ? scrubPii(err.message) : undefined };
  },
};

const EMAIL_RE = /[^\s@<>"',;:()]+@[^\s@<>"',;:()]+/g;
const PHONE_RE = /\+?\d[\d\s().-]{6,}\d/g;
/** Dotted quads (127.0.0.1, versions like 1.24.2.1) are addresses of servers, not phone numbers. */
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Replaces anything that looks like an email address or phone number in free text. */
export function scrubPii(text: string): string {
  return text.replace(EMAIL_RE, '[email]').replace(PHONE_RE, (m) => (IPV4_RE.test(m) ? m : '[phone]'));
}

/** The process-wide logger; modules may take a child of it. */
export const logger: Logger = createLogger({ name: 'sojourn' });
