/**
 * What every public route shares: the token signer, the contacts port, event emission and the
 * uniform refusal of bad tokens (400 forged or malformed, 410 expired, 409 already used).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../lib/config';
import { findSendByMessageId } from '../../data/send-ledger';
import type { ContactsPort } from '../../mail/contacts-port';
import { deterministicEventId, randomEventId, type EmailEvent } from '../../mail/events';
import { TokenSigner, type TokenClaims, type TokenPurpose } from '../../mail/tokens';
import { langOf, messagePage, t, type Lang } from './pages';
import type { OpenWindow } from './open-window';

export type PublicEvent = EmailEvent;

export interface PublicContext {
  config: Pick<Config, 'secret' | 'apiKey' | 'publicBaseUrl' | 'mailDomain'>;
  signer: TokenSigner;
  contacts: ContactsPort;
  emit(event: PublicEvent): Promise<void>;
  now(): Date;
  /** Preference-centre topics. */
  topics: string[];
  /** Opens already counted in the current window (server/public/open-window.ts). */
  opens: OpenWindow;
}

export function lang(req: FastifyRequest): Lang {
  return langOf(req.headers['accept-language']);
}

/** Verifies the route's token or answers with a refusal page (and returns null). */
export function checkToken(ctx: PublicContext, req: FastifyRequest, reply: FastifyReply, purpose: TokenPurpose): { claims: TokenClaims; tokenId: string } | null {
  const params = req.params as { token?: string; '*'?: string };
  const token = params['*'] ?? params.token ?? '';
  const check = ctx.signer.verify(token, purpose, ctx.now());
  if (check.ok) return { claims: check.claims, tokenId: check.tokenId };
  const l = lang(req);
  const expired = check.reason === 'expired';
  void reply
    .code(expired ? 410 : 400)
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(messagePage(l, t(expired ? 'expired' : 'invalid', l), t(expired ? 'expired' : 'invalid', l)));
  return null;
}

export function refuseUsed(req: FastifyRequest, reply: FastifyReply): void {
  const l = lang(req);
  void reply.code(409).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(messagePage(l, t('used', l), t('used', l)));
}

export function html(reply: FastifyReply, body: string, code = 200): FastifyReply {
  return reply.code(code).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** Event data about the send a link came from (from the ledger when the row exists). */
export async function sendFacts(ctx: PublicContext, sendRef: string | undefined): Promise<{ data: Record<string, unknown>; sentAt: Date | null }> {
  if (!sendRef || !/^[0-9a-f]{32}$/.test(sendRef)) return { data: {}, sentAt: null };
  const row = await findSendByMessageId(`<${sendRef}@${ctx.config.mailDomain}>`);
  const data: Record<string, unknown> = {};
  if (row) Object.assign(data, { sendKey: row.key, workflowId: row.workflowId, journeyId: row.journeyId, stepId: row.stepId, templateId: row.templateId });
  return { data, sentAt: row?.sentAt ?? row?.smtpStartedAt ?? null };
}

export { deterministicEventId, randomEventId };

export function clientInfo(req: FastifyRequest): { ip: string; userAgent: string | null } {
  return { ip: req.ip, userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null };
}
