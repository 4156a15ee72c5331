/**
 * Configuration from environment variables, parsed and checked once. Defaults are the local stack
 * that `npm start` brings up; production sets MONGODB_URI, TEMPORAL_ADDRESS, SMTP_URL and the secrets
 * (secrets have defaults only in development mode, SOJOURN_ENV=development).
 */
import os from 'node:os';
import path from 'node:path';
import { parseKey } from './crypto';
import { parseTimeScale } from './time-scale';
import { parseTemporalConfig, type TemporalConnectionConfig } from './temporal-config';
import { parsePayloadKeys, type PayloadKeyRing } from './payload-keys';

export interface Config {
  mongodbUri: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** Address, namespace, TLS/mTLS and API key: what lib/temporal-connection.ts connects with. */
  temporal: TemporalConnectionConfig;
  /** Keys of the payload codec (lib/payload-codec.ts); the first encrypts. */
  payloadKeys: PayloadKeyRing;
  /** The codec endpoint (/codec/decode) for the Temporal UI: on in development, opt-in in production. */
  codecEndpoint: { enabled: boolean; corsOrigins: string[]; requireAuth: boolean };
  taskQueue: string;
  /** A worker-only process serves /healthz and /readyz on this port when set (HEALTH_PORT). */
  healthPort: number | null;
  /** On SIGTERM, how long running activities may finish before they are cancelled. */
  shutdownGraceSeconds: number;
  /**
   * Workflows a worker keeps in memory between their tasks (SOJOURN_WORKFLOW_CACHE, default 250). Runs
   * mostly wait for days; one that wakes after eviction is replayed from its history. The SDK's own
   * default grows with the heap (about 2,300 here), which the load benchmark saw as 1.3 GB of growth.
   */
  workflowCacheSize: number;
  smtpUrl: string;
  httpPort: number;
  httpHost: string;
  /** Base URL of the public endpoints (unsubscribe, click, open, confirm), as recipients reach it. */
  publicBaseUrl: string;
  apiKey: string;
  /** HMAC key for link tokens and the suppression/blind-index hashes. */
  secret: string;
  /** 32-byte AES-256-GCM key (hex or base64) for phone numbers at rest. */
  phoneKey: string;
  mailFrom: string;
  mailDomain: string;
  postalAddress: string;
  cacheDir: string;
  /** Test setting: relative durations of deployed journeys are multiplied by this (lib/time-scale.ts). 1 in production. */
  timeScale: number;
  /** Optional marker put before marketing subjects where the law asks for it, e.g. "(AD) " or "【广告】". */
  adPrefix: string | undefined;
  /** Requests a minute per client on /v1 and on the public endpoints (0: off); loopback exempt in development mode. */
  rateLimits?: { apiPerMinute: number; publicPerMinute: number; exemptLoopback: boolean };
  /** `/metrics` asks for the API key (Bearer); off only in development mode, so `curl /metrics` works locally. Default true. */
  metricsRequireAuth?: boolean;
  /** Which proxies may set the client address (X-Forwarded-For): none unless SOJOURN_TRUST_PROXY says so. */
  trustProxy?: false | number | string;
  /** Port of the inbound SMTP listener (replies, the mailto unsubscribe address); null: not started. */
  inboundSmtpPort: number | null;
  /** Soft bounces of one address within `softBounceWindowDays` that mark it bounced (SOFT_BOUNCE_LIMIT, SOFT_BOUNCE_DAYS). */
  softBounceLimit: number;
  softBounceWindowDays: number;
  /** How long temporary SMTP failures are retried before a send is given up as a soft bounce (SEND_RETRY_HOURS). */
  sendRetryHours: number;
  /**
   * Base URL of the Temporal Web UI (TEMPORAL_UI_URL; in development the local dev server's UI), for the
   * dashboard's links to a journey's runs; null: the dashboard shows the filter without a link.
   */
  temporalUiUrl?: string | null;
  /** Journey `webhook` steps (activities/webhook-step.ts). */
  stepWebhooks: StepWebhookConfig;
}

/** What a journey's webhook step may call and how it signs. */
export interface StepWebhookConfig {
  /** HMAC key of the Sojourn-Signature header (SOJOURN_STEP_WEBHOOK_SECRET); null: calls fail as `no_signing_secret` (never unsigned). */
  secret: string | null;
  /** Private, loopback and link-local addresses and plain http:// only in development mode. */
  development: boolean;
  /** SOJOURN_WEBHOOK_ALLOWED_HOSTS: host names (or `.example.com` suffixes) calls may reach; empty: any public host. */
  allowedHosts: string[];
  /** How long 5xx, 408, 429 and network failures are retried before the call is given up (WEBHOOK_RETRY_HOURS, default 24). */
  retryHours: number;
}

const DEV_STEP_WEBHOOK_SECRET = 'sojourn-local-dev-webhook-secret';

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

function grace(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 30;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new Error(`SHUTDOWN_GRACE_SECONDS must be a number of seconds (0-3600), got "${raw}"`);
  return n;
}

const DEV_API_KEY = 'dev-api-key';
const DEV_SECRET = 'sojourn-local-dev-secret-change-me';
const DEV_PHONE_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

/** Shortest API key and HMAC secret accepted outside development mode, in bytes. */
export const MIN_SECRET_BYTES = 32;

/** A configuration problem, naming the environment variable to fix. */
export class ConfigError extends Error {
  constructor(readonly variables: string[], message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `SOJOURN_ENV=development` (set by `npm start`, `npm test` and the demo) allows the public dev secrets. */
export function isDevelopmentMode(env: NodeJS.ProcessEnv): boolean {
  return env.SOJOURN_ENV === 'development';
}

/** A non-negative whole number from the environment, or the default. */
function count(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: { variable: string; message: string }[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) {
    problems.push({ variable: name, message: `${name} must be a whole number (0 turns the limit off), got "${raw.slice(0, 40)}"` });
    return fallback;
  }
  return Number(raw);
}

/** `SOJOURN_TRUST_PROXY`: unset = trust no proxy; a hop count; or addresses/CIDRs separated by commas. */
function trustProxy(env: NodeJS.ProcessEnv): false | number | string {
  const raw = (env.SOJOURN_TRUST_PROXY ?? '').trim();
  if (raw === '' || raw === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (!/^[0-9a-fA-F.:/, ]+$/.test(raw)) throw new ConfigError(['SOJOURN_TRUST_PROXY'], `SOJOURN_TRUST_PROXY must be a hop count or proxy addresses/CIDRs separated by commas, got "${raw.slice(0, 80)}"`);
  return raw;
}

/** `TEMPORAL_UI_URL` (http or https, no trailing slash); in development mode the local UI by default. */
function temporalUiUrl(env: NodeJS.ProcessEnv, dev: boolean, uiPort: number, problems: { variable: string; message: string }[]): string | null {
  const raw = (env.TEMPORAL_UI_URL ?? '').trim();
  if (raw === '') return dev ? `http://127.0.0.1:${uiPort}` : null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    problems.push({ variable: 'TEMPORAL_UI_URL', message: `TEMPORAL_UI_URL must be an http(s) URL without query, fragment or credentials, got "${raw.slice(0, 80)}"` });
    return null;
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Reads the environment. Outside development mode (SOJOURN_ENV=development) nothing secret is
 * defaulted: SOJOURN_API_KEY and SOJOURN_SECRET must be at least 32 bytes, SOJOURN_PHONE_KEY a valid
 * 32-byte key, and the dev values are refused. Every problem is reported at once, each naming its
 * variable. Keys given in development mode are validated too.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dev = isDevelopmentMode(env);
  if (env.SOJOURN_ENV !== undefined && env.SOJOURN_ENV !== '' && !dev && env.SOJOURN_ENV !== 'production') {
    throw new ConfigError(['SOJOURN_ENV'], `SOJOURN_ENV must be "development" or "production", got "${env.SOJOURN_ENV.slice(0, 40)}"`);
  }
  const httpPort = port(env, 'HTTP_PORT', 3000);
  // Production rules (no defaulted secrets, codec endpoint off by default) hold everywhere but development mode.
  const production = !dev;
  const temporal = parseTemporalConfig(env);
  const uiPort = port(env, 'TEMPORAL_UI_PORT', 8233);
  const problems: { variable: string; message: string }[] = [];
  const secret = (name: string, devValue: string, check: (v: string) => string | null): string => {
    const v = env[name];
    if (v === undefined || v === '') {
      if (dev) return devValue;
      problems.push({ variable: name, message: `${name} must be set (outside development mode nothing secret is defaulted; SOJOURN_ENV=development uses the local dev values)` });
      return '';
    }
    const bad = check(v) ?? (!dev && v === devValue ? 'is the public development value' : null);
    if (bad) problems.push({ variable: name, message: `${name} ${bad}` });
    return v;
  };
  const longEnough = (v: string) => (dev || Buffer.byteLength(v, 'utf8') >= MIN_SECRET_BYTES ? null : `must be at least ${MIN_SECRET_BYTES} bytes long`);
  const validKey = (v: string) => {
    try {
      parseKey(v);
      return null;
    } catch (err) {
      return `is not a valid key: ${(err as Error).message}`;
    }
  };
  const cfg: Config = {
    mongodbUri: env.MONGODB_URI || `mongodb://127.0.0.1:${env.FERRETDB_PORT || 27017}/sojourn`,
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporal,
    payloadKeys: (() => {
      try {
        return parsePayloadKeys(env.SOJOURN_PAYLOAD_KEYS, production);
      } catch (err) {
        problems.push({ variable: 'SOJOURN_PAYLOAD_KEYS', message: (err as Error).message });
        return { current: '', keys: new Map<string, Buffer>() };
      }
    })(),
    codecEndpoint: {
      requireAuth: production,
      enabled: env.SOJOURN_CODEC_ENDPOINT ? /^(1|true|on|yes)$/i.test(env.SOJOURN_CODEC_ENDPOINT) : !production,
      corsOrigins: (env.SOJOURN_CODEC_CORS_ORIGINS || (production ? '' : `http://127.0.0.1:${uiPort},http://localhost:${uiPort}`)).split(',').map((o) => o.trim()).filter(Boolean),
    },
    taskQueue: env.TASK_QUEUE || 'sojourn',
    healthPort: env.HEALTH_PORT ? port(env, 'HEALTH_PORT', 0) : null,
    shutdownGraceSeconds: grace(env.SHUTDOWN_GRACE_SECONDS),
    workflowCacheSize: Math.max(2, Math.round(positive(env, 'SOJOURN_WORKFLOW_CACHE', 250))),
    smtpUrl: env.SMTP_URL || `smtp://127.0.0.1:${env.SMTP_PORT || 1025}`,
    httpPort,
    httpHost: env.HTTP_HOST || '127.0.0.1',
    publicBaseUrl: (env.PUBLIC_BASE_URL || `http://127.0.0.1:${httpPort}`).replace(/\/$/, ''),
    apiKey: secret('SOJOURN_API_KEY', DEV_API_KEY, longEnough),
    secret: secret('SOJOURN_SECRET', DEV_SECRET, longEnough),
    phoneKey: secret('SOJOURN_PHONE_KEY', DEV_PHONE_KEY, validKey),
    trustProxy: trustProxy(env),
    metricsRequireAuth: !dev,
    rateLimits: {
      apiPerMinute: count(env, 'SOJOURN_RATE_LIMIT_API', 1200, problems),
      publicPerMinute: count(env, 'SOJOURN_RATE_LIMIT_PUBLIC', 300, problems),
      exemptLoopback: dev,
    },
    mailFrom: env.MAIL_FROM || 'Sojourn Demo <hello@sojourn.local>',
    mailDomain: env.MAIL_DOMAIN || 'sojourn.local',
    postalAddress: env.POSTAL_ADDRESS || 'Sojourn Demo Ltd, 1 Example Road, Shanghai 200000, China',
    cacheDir: env.SOJOURN_CACHE || path.join(os.homedir(), '.cache', 'sojourn'),
    timeScale: parseTimeScale(env.SOJOURN_TIME_SCALE),
    adPrefix: env.MAIL_AD_PREFIX || undefined,
    inboundSmtpPort: env.INBOUND_SMTP_PORT ? port(env, 'INBOUND_SMTP_PORT', 0) : null,
    softBounceLimit: Math.round(positive(env, 'SOFT_BOUNCE_LIMIT', 3)),
    softBounceWindowDays: positive(env, 'SOFT_BOUNCE_DAYS', 14),
    sendRetryHours: positive(env, 'SEND_RETRY_HOURS', 24),
    temporalUiUrl: temporalUiUrl(env, dev, uiPort, problems),
    stepWebhooks: {
      secret: env.SOJOURN_STEP_WEBHOOK_SECRET
        ? (dev || Buffer.byteLength(env.SOJOURN_STEP_WEBHOOK_SECRET, 'utf8') >= MIN_SECRET_BYTES ? env.SOJOURN_STEP_WEBHOOK_SECRET
          : (problems.push({ variable: 'SOJOURN_STEP_WEBHOOK_SECRET', message: `SOJOURN_STEP_WEBHOOK_SECRET must be at least ${MIN_SECRET_BYTES} bytes long` }), null))
        : dev ? DEV_STEP_WEBHOOK_SECRET : null,
      development: dev,
      allowedHosts: (env.SOJOURN_WEBHOOK_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
      retryHours: positive(env, 'WEBHOOK_RETRY_HOURS', 24),
    },
  };
  if (!dev && cfg.timeScale !== 1) problems.push({ variable: 'SOJOURN_TIME_SCALE', message: 'SOJOURN_TIME_SCALE is a test setting, allowed only with SOJOURN_ENV=development' });
  if (problems.length) throw new ConfigError(problems.map((p) => p.variable), problems.map((p) => p.message).join('\n'));
  return cfg;
}
