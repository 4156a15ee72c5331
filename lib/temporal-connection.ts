/**
 * The one way Sojourn connects to Temporal: the HTTP server, the worker, the CLI, the scenario harness
 * and the tests all connect through here, so TLS/mTLS, Temporal Cloud API keys, the namespace and the
 * payload encryption codec are the same everywhere (a client without the codec could not read what an
 * encrypting worker wrote). Settings come from lib/temporal-config.ts (TEMPORAL_* variables).
 */
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { TemporalConnectionConfig } from './temporal-config';
import { sojournDataConverter, type PayloadKeyRing } from './payload-codec';

/** What a connection needs: the Temporal settings and the payload keys (both in lib/config.ts's Config). */
export interface TemporalSettings {
  temporal: TemporalConnectionConfig;
  payloadKeys: PayloadKeyRing;
}

/** The `tls`/`apiKey` part shared by client and worker connections. */
export function connectionOptions(t: TemporalConnectionConfig): { address: string; tls?: TemporalConnectionConfig['tls'] & object; apiKey?: string } {
  return {
    address: t.address,
    ...(t.tls ? { tls: t.tls } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
  };
}

/** A client connection (gRPC) to the configured cluster. */
export async function connectClientConnection(t: TemporalConnectionConfig): Promise<Connection> {
  return Connection.connect(connectionOptions(t));
}

/** A Temporal client over a connection, in the configured namespace, with the payload codec. */
export function createTemporalClient(connection: Connection, s: TemporalSettings): Client {
  return new Client({ connection, namespace: s.temporal.namespace, dataConverter: sojournDataConverter(s.payloadKeys) });
}

/** Connects and returns the client and its connection (close the connection when done). */
export async function connectTemporal(s: TemporalSettings): Promise<{ connection: Connection; client: Client }> {
  const connection = await connectClientConnection(s.temporal);
  return { connection, client: createTemporalClient(connection, s) };
}

/** The worker's connection (the Rust core's NativeConnection), with the same TLS and API key. */
export async function connectWorkerConnection(t: TemporalConnectionConfig): Promise<NativeConnection> {
  // Loaded on demand: the native worker bridge is not needed by CLI commands that only use a client.
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect(connectionOptions(t));
}
