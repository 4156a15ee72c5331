/**
 * An SMTP server in the test process that keeps every accepted message raw, and can be told to
 * answer the next DATA commands with an error code (4xx/5xx) to exercise retries and failures.
 */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface SmtpSink {
  port: number;
  url: string;
  messages: Buffer[];
  /** Queue replies for the next DATA commands, e.g. [451] then success. */
  failNext(...codes: number[]): void;
  /** Called after a message is stored and before the 250 reply. */
  onMessage?: (raw: Buffer) => void;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const failures: number[] = [];
  const sink = { messages: [] as Buffer[], failNext: (...codes: number[]) => void failures.push(...codes) } as unknown as SmtpSink;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = failures.shift();
        if (code) {
          const err = Object.assign(new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: code });
          callback(err);
          return;
        }
        const raw = Buffer.concat(chunks);
        sink.messages.push(raw);
        sink.onMessage?.(raw);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
