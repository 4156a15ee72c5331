/**
 * Bounces (RFC 3464 DSN, multipart/report; report-type=delivery-status) and complaints (RFC 5965 ARF,
 * report-type=feedback-report). mailparser parses the message, headers and the returned original;
 * it folds the machine-readable report part into the text body, so that one part is cut out of the
 * raw MIME here and parsed as the header blocks it is. Correlation is by the original Message-ID,
 * which the send ledger stores before the SMTP call.
 *
 *   hard (5.x.x, action failed)  -> email status bounced + suppression + email.bounced {type: hard}
 *   soft (4.x.x, or delayed)     -> email.bounced {type: soft}; the Nth soft bounce within the window
 *                                   (default 3 within 14 days) escalates to a hard one: status bounced
 *   complaint (ARF)              -> email status complained + unsubscribed + suppression + email.complained
 */
import { simpleParser } from 'mailparser';
import { Send, findSendByMessageId, updateLedgerRow, type SendDoc } from '../data/send-ledger';
import type { ContactsPort } from './contacts-port';
import { deterministicEventId, type EventSink } from './events';

export type StatusClass = 'hard' | 'soft' | 'success' | 'unknown';

export interface ReportRecipient {
  action: string | null;
  status: string | null;
  /** Diagnostic text with addresses redacted. */
  diagnostic: string | null;
  class: StatusClass;
}

export interface ParsedReport {
  type: 'dsn' | 'arf' | 'unknown';
  reportMessageId: string | null;
  originalMessageId: string | null;
  recipients: ReportRecipient[];
  /** The outcome for the contact: the worst recipient class, or complaint for ARF. */
  classification: 'hard' | 'soft' | 'complaint' | 'ignored';
  /** First enhanced status code (DSN) or feedback type (ARF). */
  code: string | null;
}

/** RFC 3463 class digit: 5 permanent (hard), 4 transient (soft), 2 success. */
export function classifyStatus(status: string | null | undefined): StatusClass {
  const m = /^\s*([245])\.\d{1,3}\.\d{1,3}/.exec(status ?? '');
  if (!m) return 'unknown';
  return m[1] === '5' ? 'hard' : m[1] === '4' ? 'soft' : 'success';
}

function redact(text: string): string {
  return text.replace(/[^\s<>;:"]+@[^\s<>;:"]+/g, '<address>');
}

/** Header-style blocks separated by blank lines, with folded lines joined; names lower-cased. */
export function parseFieldBlocks(text: string): Array<Record<string, string>> {
  const blocks: Array<Record<string, string>> = [];
  for (const chunk of text.replace(/\r\n/g, '\n').split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let last: string | null = null;
    for (const line of chunk.split('\n')) {
      if (/^[ \t]/.test(line) && last) fields[last] += ` ${line.trim()}`;
      else {
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (m) {
          last = m[1].toLowerCase();
          fields[last] = m[2].trim();
        }
      }
    }
    if (Object.keys(fields).length) blocks.push(fields);
  }
  return blocks;
}

function decodeBody(headers: string, body: string): string {
  const cte = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') {
    return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
  return body;
}

/** The body of the first MIME part whose Content-Type matches, from the top-level multipart of raw. */
export function extractPart(raw: string, boundary: string, contentType: RegExp): string | null {
  const parts = raw.split(`--${boundary}`);
  for (const part of parts.slice(1)) {
    const sep = /\r?\n\r?\n/.exec(part);
    if (!sep) continue;
    const headers = part.slice(0, sep.index);
    const ct = /content-type:\s*([^;\s]+)/i.exec(headers)?.[1] ?? '';
    if (contentType.test(ct)) return decodeBody(headers, part.slice(sep.index + sep[0].length));
  }
  return null;
}

function findMessageId(text: string | null | undefined): string | null {
  const m = /^message-id:\s*(<[^>\s]+>)/im.exec(text ?? '');
  return m ? m[1] : null;
}

/** Parses a DSN or ARF report. Never throws on odd input: unknown reports come back `ignored`. */
export async function parseReport(raw: Buffer | string, opts: { mailDomain?: string } = {}): Promise<ParsedReport> {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
  const mail = await simpleParser(text);
  const ctHeader = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const reportType = ctHeader?.value === 'multipart/report' ? (ctHeader.params?.['report-type'] ?? '').toLowerCase() : '';
  const boundary = ctHeader?.params?.boundary ?? '';
  const reportMessageId = mail.messageId ?? null;

  // The original message id: from the returned headers/message, else any id in our domain that is not the report's.
  let originalMessageId: string | null = null;
  for (const a of mail.attachments) {
    if (/^(text\/rfc822-headers|message\/rfc822|message\/global|message\/global-headers)$/i.test(a.contentType)) {
      originalMessageId = findMessageId(a.content.toString('utf8'));
      if (originalMessageId) break;
    }
  }
  if (!originalMessageId && boundary) {
    originalMessageId = findMessageId(extractPart(text, boundary, /^(text\/rfc822-headers|message\/rfc822)$/i));
  }
  if (!originalMessageId && opts.mailDomain) {
    const domain = opts.mailDomain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const all = text.match(new RegExp(`<[^<>\\s@]+@${domain}>`, 'gi')) ?? [];
    originalMessageId = all.find((id) => id !== reportMessageId) ?? null;
  }

  if (reportType === 'delivery-status' && boundary) {
    const part = extractPart(text, boundary, /^message\/(global-)?delivery-status$/i) ?? '';
    const blocks = parseFieldBlocks(part);
    const recipients = blocks
      .filter((b) => b['final-recipient'] || b['original-recipient'] || b.status || b.action)
      .filter((b) => !b['reporting-mta'] || b.status)
      .map((b): ReportRecipient => {
        const action = b.action?.toLowerCase() ?? null;
        let cls = classifyStatus(b.status);
        if (action === 'delayed' && cls === 'unknown') cls = 'soft';
        if ((action === 'delivered' || action === 'relayed' || action === 'expanded') && cls === 'unknown') cls = 'success';
        return { action, status: b.status ?? null, diagnostic: b['diagnostic-code'] ? redact(b['diagnostic-code']) : null, class: cls };
      });
    const classification = recipients.some((r) => r.class === 'hard' && r.action !== 'delayed') ? 'hard'
      : recipients.some((r) => r.class === 'soft' || r.action === 'delayed') ? 'soft' : 'ignored';
    const code = recipients.find((r) => r.class === classification)?.status ?? recipients[0]?.status ?? null;
    return { type: 'dsn', reportMessageId, originalMessageId, recipients, classification, code };
  }
  if (reportType === 'feedback-report' && boundary) {
    const part = extractPart(text, boundary, /^message\/feedback-report$/i) ?? '';
    const fields = Object.assign({}, ...parseFieldBlocks(part)) as Record<string, string>;
    const feedbackType = fields['feedback-type']?.toLowerCase() ?? null;
    // abuse and fraud are complaints; not-spam, virus and other are reported but change nothing.
    const classification = feedbackType === 'abuse' || feedbackType === 'fraud' ? 'complaint' : 'ignored';
    return { type: 'arf', reportMessageId, originalMessageId, recipients: [], classification, code: feedbackType };
  }
  return { type: 'unknown', reportMessageId, originalMessageId, recipients: [], classification: 'ignored', code: null };
}

/** Repeated soft bounces escalate: `limit` of them within `windowMs` mark the address bounced. */
export interface SoftBouncePolicy { limit: number; windowMs: number }
export const DEFAULT_SOFT_BOUNCES: SoftBouncePolicy = { limit: 3, windowMs: 14 * 86_400_000 };

/** The policy configured by SOFT_BOUNCE_LIMIT and SOFT_BOUNCE_DAYS. */
export function softBouncePolicy(config: { softBounceLimit: number; softBounceWindowDays: number }): SoftBouncePolicy {
  return { limit: config.softBounceLimit, windowMs: config.softBounceWindowDays * 86_400_000 };
}

export interface IngestDeps {
  contacts: ContactsPort;
  onEvent?: EventSink;
  mailDomain?: string;
  now?: () => Date;
  softBounces?: SoftBouncePolicy;
}

/** A refusal seen by our own SMTP client (5xx, or temporary failures past the retry window). */
export interface SmtpBounce { type: 'hard' | 'soft'; code: string | null; reason: string }

export type BounceEffect = 'bounced' | 'soft';

/**
 * Applies a bounce of the email in ledger row `row`: marks the row, and for a hard bounce (or the
 * soft bounce that reaches the policy's limit within its window) sets the address `bounced` and
 * suppresses it. Soft bounces are counted from the ledger (rows of this contact, index contactId).
 */
export async function applyBounce(row: SendDoc, bounce: { type: 'hard' | 'soft'; code: string | null; detail?: string }, deps: IngestDeps): Promise<BounceEffect> {
  const at = deps.now?.() ?? new Date();
  await updateLedgerRow(row.key, { bounceType: bounce.type, bouncedAt: at, bounceCode: bounce.code });
  let hard = bounce.type === 'hard';
  let detail = bounce.detail ?? bounce.code ?? undefined;
  if (!hard) {
    const policy = deps.softBounces ?? DEFAULT_SOFT_BOUNCES;
    const soft = await Send.countDocuments({ contactId: row.contactId, bounceType: 'soft', bouncedAt: { $gte: new Date(at.getTime() - policy.windowMs) } }).exec();
    if (soft >= policy.limit) {
      hard = true;
      detail = `${soft} soft bounces within ${Math.round(policy.windowMs / 86_400_000)} days`;
    }
  }
  if (!hard) return 'soft';
  const ctx = { at, source: 'bounce', sendKey: row.key, detail };
  await deps.contacts.setEmailStatus(row.contactId, 'bounced', ctx);
  await deps.contacts.suppress(row.contactId, 'hard_bounce', ctx);
  return 'bounced';
}

/** Records an SMTP refusal as a bounce (ledger, contact, `email.bounced` event with the reason). */
export async function recordSmtpBounce(row: SendDoc, bounce: SmtpBounce, deps: IngestDeps): Promise<BounceEffect> {
  const effect = await applyBounce(row, { type: bounce.type, code: bounce.code, detail: bounce.reason.slice(0, 200) }, deps);
  const eventId = deterministicEventId('email.bounced', row.key, bounce.code ?? '', 'smtp');
  await deps.onEvent?.({
    contactId: row.contactId, name: 'email.bounced', at: deps.now?.() ?? new Date(), eventId,
    data: { sendKey: row.key, workflowId: row.workflowId, journeyId: row.journeyId, stepId: row.stepId, templateId: row.templateId, type: bounce.type, status: bounce.code, reason: bounce.reason, source: 'smtp', escalated: effect === 'bounced' && bounce.type === 'soft' },
  });
  return effect;
}

export interface IngestResult {
  type: ParsedReport['type'];
  classification: ParsedReport['classification'];
  code: string | null;
  originalMessageId: string | null;
  /** The ledger row the report belongs to; null when the message is not ours or unknown. */
  sendKey: string | null;
  contactId: string | null;
  /** What changed: email status and suppression for hard bounces and complaints. */
  effect: 'bounced' | 'complained' | 'soft' | 'none';
  eventId: string | null;
}

/** Parses a report, correlates it to the ledger by Message-ID, updates the contact and emits the event. */
export async function ingestReport(raw: Buffer | string, deps: IngestDeps): Promise<IngestResult> {
  const report = await parseReport(raw, { mailDomain: deps.mailDomain });
  const base: IngestResult = {
    type: report.type, classification: report.classification, code: report.code, originalMessageId: report.originalMessageId,
    sendKey: null, contactId: null, effect: 'none', eventId: null,
  };
  if (!report.originalMessageId || report.classification === 'ignored') return base;
  const row = await findSendByMessageId(report.originalMessageId);
  if (!row) return base;
  const at = deps.now?.() ?? new Date();
  const result: IngestResult = { ...base, sendKey: row.key, contactId: row.contactId };
  const data = { sendKey: row.key, workflowId: row.workflowId, journeyId: row.journeyId, stepId: row.stepId, templateId: row.templateId };
  const ctx = { at, source: report.classification === 'complaint' ? 'complaint' : 'bounce', sendKey: row.key, detail: report.code ?? undefined };

  if (report.classification === 'complaint') {
    await deps.contacts.setEmailStatus(row.contactId, 'complained', ctx);
    await deps.contacts.setEmailConsent(row.contactId, 'unsubscribed', ctx);
    await deps.contacts.suppress(row.contactId, 'complaint', ctx);
    await updateLedgerRow(row.key, { bounceType: report.classification, bouncedAt: at, bounceCode: report.code });
    result.effect = 'complained';
  } else {
    result.effect = await applyBounce(row, { type: report.classification, code: report.code }, { ...deps, now: () => at });
  }
  const name = report.classification === 'complaint' ? 'email.complained' : 'email.bounced';
  result.eventId = deterministicEventId(name, row.key, report.code ?? '', report.reportMessageId ?? '');
  const eventData = report.classification === 'complaint' ? { ...data, feedbackType: report.code } : { ...data, type: report.classification, status: report.code };
  await deps.onEvent?.({ contactId: row.contactId, name, at, data: eventData, eventId: result.eventId });
  return result;
}
