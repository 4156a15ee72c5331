/**
 * SMTP through nodemailer, and the classification of SMTP failures that drives retries:
 * 5xx is permanent (the step fails with the reason), 4xx and connection failures before DATA were
 * not delivered (retry with backoff), anything else during DATA may have been delivered (unknown).
 */
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';

/** The one capability the messaging activity needs; nodemailer transporters satisfy it. */
export interface MailTransport {
  sendMail(message: Mail.Options): Promise<{ messageId?: string; response?: string }>;
}

/** A pooled nodemailer transport for an smtp:// or smtps:// URL (the local sink by default). */
export function createSmtpTransport(smtpUrl: string): MailTransport & { close(): void } {
  return nodemailer.createTransport(smtpUrl) as unknown as MailTransport & { close(): void };
}

export type SmtpFailure =
  | { kind: 'permanent'; smtpCode: number; reason: string }
  | { kind: 'transient'; smtpCode: number | null; reason: string }
  | { kind: 'unknown'; smtpCode: number | null; reason: string };

const NOT_SENT_CODES = new Set(['ECONNECTION', 'EDNS', 'EAUTH', 'ETLS', 'ENOTFOUND', 'ECONNREFUSED', 'EENVELOPE']);
const BEFORE_DATA_COMMANDS = new Set(['CONN', 'EHLO', 'HELO', 'STARTTLS', 'AUTH PLAIN', 'AUTH LOGIN', 'MAIL FROM', 'RCPT TO', 'API']);

/** Classifies a nodemailer error. The reason never contains the recipient address. */
export function classifySmtpError(err: unknown, recipient?: string): SmtpFailure {
  const e = (err ?? {}) as { responseCode?: number; code?: string; command?: string; response?: string; message?: string };
  let reason = (e.response || e.message || String(err)).slice(0, 300);
  if (recipient) reason = reason.split(recipient).join('<recipient>');
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  if (code !== null && code >= 500) return { kind: 'permanent', smtpCode: code, reason };
  if (code !== null && code >= 400) return { kind: 'transient', smtpCode: code, reason };
  if ((e.code && NOT_SENT_CODES.has(e.code)) || (e.command && BEFORE_DATA_COMMANDS.has(e.command))) return { kind: 'transient', smtpCode: code, reason };
  return { kind: 'unknown', smtpCode: code, reason };
}
