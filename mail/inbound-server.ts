/**
 * The inbound SMTP listener (smtp-server): accepts mail for the sending domain (replies, the mailto
 * unsubscribe address) and hands each message to a processor (mail/inbound.ts through
 * server/inbound.ts). Plain SMTP on loopback in the local stack; in production it sits behind the
 * MX that receives the domain's mail (docs/delivery.md). A message the processor fails on is
 * refused with a 451 so the sending server retries it later; nothing is half-accepted.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Envelope } from './inbound';

/** Largest message accepted (a customer's reply with a small attachment). */
export const INBOUND_MAX_BYTES = 2 * 1024 * 1024;

export interface InboundServer { port: number; close(): Promise<void> }

export async function startInboundServer(opts: {
  port: number;
  host?: string;
  mailDomain: string;
  process(raw: Buffer, envelope: Envelope): Promise<unknown>;
  onError?(err: unknown): void;
}): Promise<InboundServer> {
  const domain = opts.mailDomain.toLowerCase();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: INBOUND_MAX_BYTES,
    onRcptTo(address, _session, callback) {
      // Only our own domain: this is not a relay.
      if (!address.address.toLowerCase().endsWith(`@${domain}`)) return callback(Object.assign(new Error('Relay not permitted'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('Message too large'), { responseCode: 552 }));
          return;
        }
        const rcptTo = session.envelope.rcptTo.map((r) => r.address);
        opts.process(Buffer.concat(chunks), { rcptTo }).then(
          () => callback(),
          (err: unknown) => {
            opts.onError?.(err);
            callback(Object.assign(new Error('Temporary failure, try again later'), { responseCode: 451 }));
          },
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
