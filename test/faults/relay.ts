/**
 * The fault suite's SMTP relay: a real SMTP server on a fixed loopback port that can be taken down
 * (the port refuses connections: every listener and open connection is closed), made slow (it answers
 * DATA only after a delay), or made to refuse with a temporary (451) or permanent (550) reply. It keeps
 * every accepted message with its envelope recipient, Message-ID and template (from Feedback-ID), so
 * the suite counts received, duplicated and lost emails.
 */
import net from 'node:net';
import { SMTPServer } from 'smtp-server';

export type RelayMode = { kind: 'accept' } | { kind: 'slow'; delayMs: number } | { kind: 'reply'; code: number };

export interface RelayedMessage { to: string; messageId: string; template: string; at: number }

export class FaultRelay {
  readonly messages: RelayedMessage[] = [];
  /** Replies refused with a 4xx/5xx code, counted for the table. */
  refused = 0;
  mode: RelayMode = { kind: 'accept' };
  private server: SMTPServer | null = null;
  private sockets = new Set<net.Socket>();

  constructor(readonly port: number) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect: (session, callback) => callback(),
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const mode = this.mode;
          if (mode.kind === 'reply') {
            this.refused++;
            callback(Object.assign(new Error(mode.code >= 500 ? '5.1.1 Mailbox unavailable' : '4.3.0 Try again later'), { responseCode: mode.code }));
            return;
          }
          const head = Buffer.concat(chunks).toString('utf8').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
          const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1].trim() ?? '';
          const store = () => {
            this.messages.push({
              to: session.envelope.rcptTo[0]?.address ?? '',
              messageId: header('Message-ID'),
              template: header('Feedback-ID').split(':')[0],
              at: Date.now(),
            });
            callback();
          };
          // Slow: the message is stored at once, the 250 comes late (the sender cannot know it went out until then).
          if (mode.kind === 'slow') {
            setTimeout(() => {
              if (this.server === server) store();
              else callback(new Error('relay went down'));
            }, mode.delayMs);
          } else store();
        });
      },
    });
    server.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  /** Down: nothing listens on the port any more (connection refused), open connections are cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages to these recipients. */
  to(addresses: Iterable<string>): RelayedMessage[] {
    const set = new Set(addresses);
    return this.messages.filter((m) => set.has(m.to));
  }
}
