/**
 * Configuration from environment variables, parsed and checked once. Defaults are the local stack
 * that `npm start` brings up; production sets MONGODB_URI, TEMPORAL_ADDRESS, SMTP_URL and the secrets.
 */
import os from 'node:os';
import path from 'node:path';
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
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

const DEV_SECRET = 'sojourn-local-dev-secret-change-me';
const DEV_PHONE_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

/** Reads the environment. Outside development (NODE_ENV=production) the secrets must be set. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const httpPort = port(env, 'HTTP_PORT', 3000);
  const production = env.NODE_ENV === 'production';
  const temporal = parseTemporalConfig(env);
  const uiPort = port(env, 'TEMPORAL_UI_PORT', 8233);
  const cfg: Config = {
    mongodbUri: env.MONGODB_URI || `mongodb://127.0.0.1:${env.FERRETDB_PORT || 27017}/sojourn`,
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporal,
    payloadKeys: parsePayloadKeys(env.SOJOURN_PAYLOAD_KEYS, production),
    codecEndpoint: {
      requireAuth: production,
      enabled: env.SOJOURN_CODEC_ENDPOINT ? /^(1|true|on|yes)$/i.test(env.SOJOURN_CODEC_ENDPOINT) : !production,
      corsOrigins: (env.SOJOURN_CODEC_CORS_ORIGINS || (production ? '' : `http://127.0.0.1:${uiPort},http://localhost:${uiPort}`)).split(',').map((o) => o.trim()).filter(Boolean),
    },
    taskQueue: env.TASK_QUEUE || 'sojourn',
    smtpUrl: env.SMTP_URL || `smtp://127.0.0.1:${env.SMTP_PORT || 1025}`,
    httpPort,
    httpHost: env.HTTP_HOST || '127.0.0.1',
    publicBaseUrl: (env.PUBLIC_BASE_URL || `http://127.0.0.1:${httpPort}`).replace(/\/$/, ''),
    apiKey: env.SOJOURN_API_KEY || 'dev-api-key',
    secret: env.SOJOURN_SECRET || DEV_SECRET,
    phoneKey: env.SOJOURN_PHONE_KEY || DEV_PHONE_KEY,
    mailFrom: env.MAIL_FROM || 'Sojourn Demo <hello@sojourn.local>',
    mailDomain: env.MAIL_DOMAIN || 'sojourn.local',
    postalAddress: env.POSTAL_ADDRESS || 'Sojourn Demo Ltd, 1 Example Road, Shanghai 200000, China',
    cacheDir: env.SOJOURN_CACHE || path.join(os.homedir(), '.cache', 'sojourn'),
    timeScale: parseTimeScale(env.SOJOURN_TIME_SCALE),
    adPrefix: env.MAIL_AD_PREFIX || undefined,
  };
  if (env.NODE_ENV === 'production' && cfg.timeScale !== 1) throw new Error('SOJOURN_TIME_SCALE is a test setting and must not be set in production');
  if (env.NODE_ENV === 'production') {
    for (const [k, v, dev] of [['SOJOURN_SECRET', cfg.secret, DEV_SECRET], ['SOJOURN_PHONE_KEY', cfg.phoneKey, DEV_PHONE_KEY], ['SOJOURN_API_KEY', cfg.apiKey, 'dev-api-key']] as const) {
      if (v === dev) throw new Error(`${k} must be set in production`);
    }
  }
  return cfg;
}
