import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeTemporal, parseTemporalConfig } from '../../../lib/temporal-config';
import { loadConfig } from '../../../lib/config';

describe('Temporal connection settings from the environment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-tls-'));
  const file = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));

  it('is plaintext to the local dev server by default', () => {
    const c = parseTemporalConfig({});
    expect(c).toEqual({ address: '127.0.0.1:7233', namespace: 'default', tls: null, apiKey: null });
    expect(describeTemporal(c)).toBe('127.0.0.1:7233 namespace default (plaintext)');
  });

  it('reads mTLS material from files or inline PEM, with a server name override', () => {
    const c = parseTemporalConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'crm',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('c.pem', 'CERT'), TEMPORAL_TLS_CLIENT_KEY_DATA: 'KEY\\nLINE2',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'), TEMPORAL_TLS_SERVER_NAME: 'frontend',
    });
    expect(c.tls?.clientCertPair?.crt.toString()).toBe('CERT');
    expect(c.tls?.clientCertPair?.key.toString()).toBe('KEY\nLINE2');
    expect(c.tls?.serverRootCACertificate?.toString()).toBe('CA');
    expect(c.tls?.serverNameOverride).toBe('frontend');
    expect(describeTemporal(c)).toBe('temporal.internal:7233 namespace crm (mTLS)');
  });

  it('turns TLS on for a Temporal Cloud API key, and never prints the key', () => {
    const c = parseTemporalConfig({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'crm.a1b2c', TEMPORAL_API_KEY: 'secret-key' });
    expect(c.tls).toEqual({});
    expect(c.apiKey).toBe('secret-key');
    expect(describeTemporal(c)).not.toContain('secret-key');
    expect(loadConfig({ SOJOURN_ENV: 'development', TEMPORAL_API_KEY: 'secret-key' }).temporal.apiKey).toBe('secret-key');
  });

  it('refuses contradictions and unreadable files, naming the variable', () => {
    expect(() => parseTemporalConfig({ TEMPORAL_TLS_CLIENT_CERT_DATA: 'x' })).toThrow(/needs both TEMPORAL_TLS_CLIENT_CERT_\* and TEMPORAL_TLS_CLIENT_KEY_\*/);
    expect(() => parseTemporalConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_TLS=false/);
    expect(() => parseTemporalConfig({ TEMPORAL_TLS: 'maybe' })).toThrow(/TEMPORAL_TLS must be true or false/);
    expect(() => parseTemporalConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') })).toThrow(/TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read .*missing\.pem \(ENOENT\)/);
    expect(() => parseTemporalConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'a', TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'b' })).toThrow(/either TEMPORAL_TLS_SERVER_CA_CERT_DATA or TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    expect(parseTemporalConfig({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
  });
});
