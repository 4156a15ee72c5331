/**
 * Message headers we control: a deterministic Message-ID in our domain (so a bounce finds its ledger
 * row even when the send crashed before completion), List-Id, and on marketing mail
 * List-Unsubscribe (https one-click + mailto) with List-Unsubscribe-Post (RFC 8058).
 */
import crypto from 'node:crypto';

/** The send reference carried by link tokens: 32 hex chars of sha256(ledger key). */
export function sendRefFor(sendKey: string): string {
  return crypto.createHash('sha256').update(sendKey).digest('hex').slice(0, 32);
}

/** `<sendRef@mailDomain>`: the same for every attempt of one ledger key. */
export function messageIdFor(sendKey: string, mailDomain: string): string {
  return `<${sendRefFor(sendKey)}@${mailDomain}>`;
}

export interface HeaderInput {
  marketing: boolean;
  journeyId: string;
  templateId: string;
  mailDomain: string;
  unsubscribeUrl: string;
  unsubscribeMailto: string;
}

/** A header value nodemailer must pass through untouched (no re-encoding or folding inside the URLs). */
export interface PreparedHeader { prepared: true; value: string }

function listLabel(journeyId: string): string {
  return journeyId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'mail';
}

/** The extra headers for one message (Message-ID is set separately through nodemailer's messageId). */
export function buildListHeaders(input: HeaderInput): Record<string, PreparedHeader> {
  const label = listLabel(input.journeyId);
  const headers: Record<string, PreparedHeader> = {
    'List-Id': { prepared: true, value: `Sojourn ${label} <${label}.${input.mailDomain}>` },
    // Gmail's feedback loop groups complaints by this; ids only, no PII.
    'Feedback-ID': { prepared: true, value: `${input.templateId}:${label}:sojourn` },
  };
  if (input.marketing) {
    headers['List-Unsubscribe'] = { prepared: true, value: `<${input.unsubscribeUrl}>, <${input.unsubscribeMailto}>` };
    headers['List-Unsubscribe-Post'] = { prepared: true, value: 'List-Unsubscribe=One-Click' };
  }
  return headers;
}
