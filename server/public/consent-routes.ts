/**
 * Routes that change consent or address state. GET only renders a page whose button POSTs back;
 * POST changes state. Unsubscribe follows RFC 8058 (POST body `List-Unsubscribe=One-Click`, 200).
 * Confirm and verify tokens are one-time: the first POST claims the token id, a replay gets 409.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { claimToken, UsedToken } from '../../data/used-tokens';
import { buttonPage, messagePage, page, t } from './pages';
import { checkToken, clientInfo, deterministicEventId, html, lang, refuseUsed, sendFacts, type PublicContext } from './context';
import Handlebars from 'handlebars';

const esc = Handlebars.escapeExpression;

/** RFC 8058 body, urlencoded (parsed by @fastify/formbody) or multipart (kept raw by our parser). */
function isOneClickBody(body: unknown): boolean {
  if (!body) return false;
  if (typeof body === 'object' && 'raw' in (body as object)) {
    return /name="List-Unsubscribe"\r?\n\r?\nOne-Click/i.test(String((body as { raw: unknown }).raw));
  }
  return (body as Record<string, unknown>)['List-Unsubscribe'] === 'One-Click';
}

function actionUrl(req: FastifyRequest): string {
  return req.url.split('?')[0];
}

export function registerConsentRoutes(app: FastifyInstance, ctx: PublicContext): void {
  // One-click unsubscribe.
  app.get('/u/*', async (req, reply) => {
    if (!checkToken(ctx, req, reply, 'unsubscribe')) return reply;
    const l = lang(req);
    return html(reply, buttonPage(l, t('unsubscribeTitle', l), t('unsubscribeAsk', l), t('unsubscribeButton', l), actionUrl(req), { 'List-Unsubscribe': 'One-Click' }));
  });
  app.post('/u/*', async (req, reply) => {
    const ok = checkToken(ctx, req, reply, 'unsubscribe');
    if (!ok) return reply;
    const l = lang(req);
    if (!isOneClickBody(req.body)) return html(reply, messagePage(l, t('invalid', l), 'Expected List-Unsubscribe=One-Click'), 400);
    const at = ctx.now();
    const facts = await sendFacts(ctx, ok.claims.sendRef);
    await ctx.contacts.setEmailConsent(ok.claims.contactId, 'unsubscribed', { source: 'one_click', at, ...clientInfo(req), wording: 'unsubscribe-v1', sendKey: (facts.data.sendKey as string | undefined) ?? null });
    await ctx.emit({ contactId: ok.claims.contactId, name: 'email.unsubscribed', at, data: { ...facts.data, source: 'one_click' }, eventId: deterministicEventId('email.unsubscribed', ok.tokenId) });
    return html(reply, messagePage(l, t('unsubscribeTitle', l), t('unsubscribed', l)));
  });

  // Preference centre: topics and pause.
  app.get('/p/*', async (req, reply) => {
    const ok = checkToken(ctx, req, reply, 'preferences');
    if (!ok) return reply;
    const l = lang(req);
    const prefs = (await ctx.contacts.getPreferences(ok.claims.contactId)) ?? { topics: {}, pausedUntil: null };
    const topics = ctx.topics
      .map((topic) => {
        const label = `topic_${topic}` in { topic_news: 1, topic_offers: 1 } ? t(`topic_${topic}` as 'topic_news', l) : topic;
        const checked = prefs.topics[topic] !== false ? ' checked' : '';
        return `<label><input type="checkbox" name="topics" value="${esc(topic)}"${checked}> ${esc(label)}</label>`;
      })
      .join('');
    const paused = prefs.pausedUntil && prefs.pausedUntil > ctx.now() ? `<p>⏸ ${esc(prefs.pausedUntil.toISOString().slice(0, 10))}</p>` : '';
    const body =
      `<form method="post" action="${esc(actionUrl(req))}">${topics}${paused}` +
      `<p><label>${esc(t('pause', l))} <select name="pause"><option value="">${esc(t('pauseNone', l))}</option><option value="30">${esc(t('pause30', l))}</option><option value="90">${esc(t('pause90', l))}</option></select></label></p>` +
      `<label><input type="checkbox" name="unsubscribe_all" value="1"> ${esc(t('unsubscribeAll', l))}</label>` +
      `<p><button type="submit">${esc(t('save', l))}</button></p></form>`;
    return html(reply, page(l, t('preferencesTitle', l), body));
  });
  app.post('/p/*', async (req, reply) => {
    const ok = checkToken(ctx, req, reply, 'preferences');
    if (!ok) return reply;
    const l = lang(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const chosen = new Set(([] as unknown[]).concat(body.topics ?? []).map(String));
    const topics = Object.fromEntries(ctx.topics.map((topic) => [topic, chosen.has(topic)]));
    const days = Number(body.pause);
    const at = ctx.now();
    const pausedUntil = days === 30 || days === 90 ? new Date(at.getTime() + days * 86400_000) : null;
    const facts = await sendFacts(ctx, ok.claims.sendRef);
    const change = { source: 'preference_centre', at, ...clientInfo(req), wording: 'preferences-v1', sendKey: (facts.data.sendKey as string | undefined) ?? null };
    await ctx.contacts.setPreferences(ok.claims.contactId, { topics, pausedUntil }, change);
    await ctx.emit({ contactId: ok.claims.contactId, name: 'email.preferences_updated', at, data: { ...facts.data, topics, pausedUntil: pausedUntil?.toISOString() ?? null }, eventId: deterministicEventId(`email.preferences_updated:${JSON.stringify(topics)}:${days}`, ok.tokenId) });
    if (body.unsubscribe_all === '1') {
      await ctx.contacts.setEmailConsent(ok.claims.contactId, 'unsubscribed', change);
      await ctx.emit({ contactId: ok.claims.contactId, name: 'email.unsubscribed', at, data: { ...facts.data, source: 'preference_centre' }, eventId: deterministicEventId('email.unsubscribed', ok.tokenId) });
      return html(reply, messagePage(l, t('preferencesTitle', l), t('unsubscribed', l)));
    }
    return html(reply, messagePage(l, t('preferencesTitle', l), t('saved', l)));
  });

  // Double opt-in and address verification: one-time tokens behind a button.
  const oneTime = (route: 'c' | 'v', purpose: 'confirm' | 'verify') => {
    const titleKey = purpose === 'confirm' ? 'confirmTitle' : 'verifyTitle';
    app.get(`/${route}/*`, async (req, reply) => {
      const ok = checkToken(ctx, req, reply, purpose);
      if (!ok) return reply;
      if (await UsedToken.exists({ _id: ok.tokenId })) return refuseUsed(req, reply);
      const l = lang(req);
      const question = purpose === 'confirm' ? t('confirmTitle', l) : t('verifyTitle', l);
      return html(reply, buttonPage(l, t(titleKey, l), question, t(purpose === 'confirm' ? 'confirmButton' : 'verifyButton', l), actionUrl(req)));
    });
    app.post(`/${route}/*`, async (req, reply) => {
      const ok = checkToken(ctx, req, reply, purpose);
      if (!ok) return reply;
      const at = ctx.now();
      const fresh = await claimToken({ tokenId: ok.tokenId, purpose, contactId: ok.claims.contactId, expiresAt: new Date(ok.claims.exp * 1000), now: at });
      if (!fresh) return refuseUsed(req, reply);
      const l = lang(req);
      const facts = await sendFacts(ctx, ok.claims.sendRef);
      const change = { source: purpose === 'confirm' ? 'double_opt_in' : 'verification', at, ...clientInfo(req), wording: `${purpose}-v1`, sendKey: (facts.data.sendKey as string | undefined) ?? null };
      if (purpose === 'confirm') await ctx.contacts.setEmailConsent(ok.claims.contactId, 'subscribed', change);
      else await ctx.contacts.markEmailVerified(ok.claims.contactId, change);
      const name = purpose === 'confirm' ? 'email.confirmed' : 'email.verified';
      await ctx.emit({ contactId: ok.claims.contactId, name, at, data: facts.data, eventId: deterministicEventId(name, ok.tokenId) });
      return html(reply, messagePage(l, t(titleKey, l), t(purpose === 'confirm' ? 'confirmed' : 'verified', l)));
    });
  };
  oneTime('c', 'confirm');
  oneTime('v', 'verify');
}
