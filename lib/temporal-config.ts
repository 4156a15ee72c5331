/**
 * How to reach Temporal, parsed once from the environment: address, namespace, TLS or mTLS, and a
 * Temporal Cloud API key. The variable names are the ones the Temporal CLI and SDKs read
 * (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_API_KEY, ...), so one environment serves `temporal` and
 * `sojourn` alike. PEM material comes from a file (`*_PATH`) or inline (`*_DATA`).
 * No SDK import here: lib/config.ts loads this in every CLI command.
 */
import fs from 'node:fs';

/** TLS settings, in the shape the client and worker connections take (`tls` option). */
export interface TemporalTls {
  /** SNI / host name checked against the server certificate (a proxy or an IP address in front). */
  serverNameOverride?: string;
  /** CA that signed the server certificate; absent: the system roots (Temporal Cloud). */
  serverRootCACertificate?: Buffer;
  /** mTLS: the client certificate and key. */
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  /** null: plaintext (the local dev server). */
  tls: TemporalTls | null;
  /** Temporal Cloud API key (sent as `Authorization: Bearer`); implies TLS. */
  apiKey: string | null;
}

/** Reads `<NAME>_DATA` (inline PEM) or `<NAME>_PATH` (a file); null when neither is set. */
function pem(env: NodeJS.ProcessEnv, name: string): Buffer | null {
  const data = env[`${name}_DATA`];
  const file = env[`${name}_PATH`];
  if (data && file) throw new Error(`set either ${name}_DATA or ${name}_PATH, not both`);
  if (data) return Buffer.from(data.replace(/\\n/g, '\n'));
  if (!file) return null;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${name}_PATH: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

/**
 * The Temporal connection settings. TLS is on when TEMPORAL_TLS is true or any certificate, CA or API
 * key is given (TEMPORAL_TLS=false with one of them is a contradiction and refused).
 */
export function parseTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConnectionConfig {
  const address = env.TEMPORAL_ADDRESS || `127.0.0.1:${env.TEMPORAL_PORT || 7233}`;
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const apiKey = env.TEMPORAL_API_KEY || (env.TEMPORAL_API_KEY_PATH ? fs.readFileSync(env.TEMPORAL_API_KEY_PATH, 'utf8').trim() : '') || null;
  const ca = pem(env, 'TEMPORAL_TLS_SERVER_CA_CERT');
  const crt = pem(env, 'TEMPORAL_TLS_CLIENT_CERT');
  const key = pem(env, 'TEMPORAL_TLS_CLIENT_KEY');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  if ((crt === null) !== (key === null)) throw new Error('mTLS needs both TEMPORAL_TLS_CLIENT_CERT_* and TEMPORAL_TLS_CLIENT_KEY_*');
  const wanted = flag(env, 'TEMPORAL_TLS');
  const implied = !!(apiKey || ca || crt || serverName);
  if (wanted === false && implied) throw new Error('TEMPORAL_TLS=false, but a TLS certificate, CA, server name or API key is set');
  const tls: TemporalTls | null = wanted || implied
    ? {
        ...(serverName ? { serverNameOverride: serverName } : {}),
        ...(ca ? { serverRootCACertificate: ca } : {}),
        ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      }
    : null;
  return { address, namespace, tls, apiKey };
}

/** A one-line description for logs: never the key or certificate material. */
export function describeTemporal(c: TemporalConnectionConfig): string {
  const how = !c.tls ? 'plaintext' : c.tls.clientCertPair ? 'mTLS' : 'TLS';
  return `${c.address} namespace ${c.namespace} (${how}${c.apiKey ? ', API key' : ''})`;
}
