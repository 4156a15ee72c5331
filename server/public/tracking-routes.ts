/**
 * Open pixel and click redirect. The pixel always answers with a 1x1 GIF and `no-store` (a bad token
 * records nothing); the redirect goes only to the URL inside a valid click token, never to a URL
 * from the query string. Machine opens and bot clicks are flagged on the event, not dropped.
 */
import type { FastifyInstance } from 'fastify';
import { classifyClick, classifyOpen } from '../../mail/machine';
import { checkToken, deterministicEventId, randomEventId, sendFacts, type PublicContext } from './context';

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export function registerTrackingRoutes(app: FastifyInstance, ctx: PublicContext): void {
  app.get('/o/*', async (req, reply) => {
    void reply
      .header('Cache-Control', 'no-store, no-cache, must-revalidate, private, max-age=0')
      .header('Pragma', 'no-cache')
      .header('Expires', '0')
      .type('image/gif');
    const token = (req.params as { '*': string })['*'].replace(/\.gif$/, '');
    const check = ctx.signer.verify(token, 'open', ctx.now());
    if (check.ok && req.method === 'GET') {
      const at = ctx.now();
      const facts = await sendFacts(ctx, check.claims.sendRef);
      const sentAt = facts.sentAt ?? new Date(check.claims.iat * 1000);
      const verdict = classifyOpen({ userAgent: req.headers['user-agent'], ip: req.ip, secondsSinceSend: (at.getTime() - sentAt.getTime()) / 1000 });
      // One open counted per token (and verdict) per window: a reloaded pixel changes nothing.
      const key = `${check.tokenId}:${verdict.machine ? 'machine' : 'human'}`;
      if (ctx.opens.first(key, at)) {
        if (!verdict.machine) await ctx.contacts.recordEngagement?.(check.claims.contactId, 'open', at);
        await ctx.emit({ contactId: check.claims.contactId, name: 'email.opened', at, data: { ...facts.data, machine: verdict.machine, reasons: verdict.reasons }, eventId: deterministicEventId(`email.opened:${key}:${ctx.opens.windowOf(at)}`, check.tokenId) });
      }
    }
    return reply.send(PIXEL);
  });

  app.get('/r/*', async (req, reply) => {
    const ok = checkToken(ctx, req, reply, 'click');
    if (!ok) return reply;
    const target = ok.claims.url;
    if (!target || !/^https?:\/\//i.test(target)) {
      return reply.code(400).type('text/plain; charset=utf-8').send('This link is not valid.');
    }
    const at = ctx.now();
    const facts = await sendFacts(ctx, ok.claims.sendRef);
    const sentAt = facts.sentAt ?? new Date(ok.claims.iat * 1000);
    const verdict = classifyClick({ method: req.method, userAgent: req.headers['user-agent'], secondsSinceSend: (at.getTime() - sentAt.getTime()) / 1000 });
    if (!verdict.machine) await ctx.contacts.recordEngagement?.(ok.claims.contactId, 'click', at);
    await ctx.emit({ contactId: ok.claims.contactId, name: 'email.clicked', at, data: { ...facts.data, url: target, machine: verdict.machine, reasons: verdict.reasons }, eventId: randomEventId() });
    return reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').redirect(target, 302);
  });
}
