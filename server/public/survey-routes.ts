/**
 * The survey page behind a survey email's rating links (`/s/<token>`; the token is signed and carries the
 * survey id, its scale and the score of the link that was clicked, never an address).
 *
 *   GET  /s/<token>  the score form with the clicked score preselected and a comment box; stores nothing,
 *                    so a link scanner or a prefetch that follows every link answers no survey
 *   POST /s/<token>  stores { score, comment, at } as `surveys.<surveyId>` on the contact (the data layer's
 *                    one update path) and emits `survey.answered` through the ingest
 *
 * The score that counts is the one POSTed, so the person can change it (and answer again later with the
 * same link: the latest answer wins). CSRF: the signed token in the URL is the capability, as for the
 * other public pages; in addition a POST a browser marks cross-site (`Sec-Fetch-Site: cross-site`) is
 * refused, since this form is only ever submitted from its own page. The comment stays on the contact:
 * the event carries whether there is one, not its text (event data reaches webhooks and reports).
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Handlebars from 'handlebars';
import { SURVEY_SCALES, scoreOnScale, type SurveyClaim } from '../../mail/tokens';
import { messagePage, page, t, type Lang } from './pages';
import { checkToken, clientInfo, deterministicEventId, html, lang, sendFacts, type PublicContext } from './context';

const esc = Handlebars.escapeExpression;
/** Longest comment kept (characters); longer ones are refused with a message, nothing stored. */
export const MAX_SURVEY_COMMENT = 1000;

function surveyForm(l: Lang, survey: SurveyClaim, action: string, chosen: number, comment: string, problem?: string): string {
  const { min, max } = SURVEY_SCALES[survey.scale];
  const options: string[] = [];
  for (let n = min; n <= max; n++) {
    const label = survey.scale === 'csat' ? `${'★'.repeat(n)}${'☆'.repeat(max - n)} ${n}` : String(n);
    options.push(`<label style="display:inline-block;margin:4px 8px 4px 0"><input type="radio" name="score" value="${n}"${n === chosen ? ' checked' : ''}> ${esc(label)}</label>`);
  }
  return page(l, t('surveyTitle', l),
    `${problem ? `<p role="alert"><strong>${esc(problem)}</strong></p>` : ''}` +
    `<form method="post" action="${esc(action)}"><p>${esc(t(survey.scale === 'csat' ? 'surveyAskCsat' : 'surveyAskNps', l))}</p>` +
    `<fieldset style="border:0;padding:0">${options.join('')}</fieldset>` +
    `<p><label>${esc(t('surveyComment', l))}<br><textarea name="comment" rows="4" cols="40" maxlength="${MAX_SURVEY_COMMENT}">${esc(comment)}</textarea></label></p>` +
    `<p><button type="submit">${esc(t('surveySend', l))}</button></p></form>`);
}

function actionUrl(req: FastifyRequest): string {
  return req.url.split('?')[0];
}

/** The form's score: one decimal integer on the scale, else null. */
function readScore(survey: SurveyClaim, raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^\d{1,2}$/.test(raw)) return null;
  const n = Number(raw);
  return scoreOnScale(survey.scale, n) ? n : null;
}

export function registerSurveyRoutes(app: FastifyInstance, ctx: PublicContext): void {
  app.get('/s/*', async (req, reply) => {
    const ok = checkToken(ctx, req, reply, 'survey');
    if (!ok) return reply;
    const survey = ok.claims.survey as SurveyClaim;
    return html(reply, surveyForm(lang(req), survey, actionUrl(req), survey.score, ''));
  });

  app.post('/s/*', { bodyLimit: 16 * 1024 }, async (req, reply) => {
    const ok = checkToken(ctx, req, reply, 'survey');
    if (!ok) return reply;
    const l = lang(req);
    const survey = ok.claims.survey as SurveyClaim;
    if (req.headers['sec-fetch-site'] === 'cross-site') return html(reply, messagePage(l, t('invalid', l), t('invalid', l)), 403);
    const body = (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {}) as Record<string, unknown>;
    const score = readScore(survey, body.score);
    const rawComment = typeof body.comment === 'string' ? body.comment : '';
    const comment = rawComment.replace(/\r\n?/g, '\n').trim();
    if (score === null) return html(reply, surveyForm(l, survey, actionUrl(req), survey.score, comment.slice(0, MAX_SURVEY_COMMENT), t('surveyBadScore', l)), 400);
    if (comment.length > MAX_SURVEY_COMMENT || (body.comment !== undefined && typeof body.comment !== 'string')) {
      return html(reply, surveyForm(l, survey, actionUrl(req), score, comment.slice(0, MAX_SURVEY_COMMENT), t('surveyTooLong', l)), 400);
    }
    const at = ctx.now();
    const facts = await sendFacts(ctx, ok.claims.sendRef);
    const stored = await ctx.contacts.recordSurveyAnswer(ok.claims.contactId, { surveyId: survey.id, score, comment: comment || null }, { source: 'survey', at, ...clientInfo(req), wording: `survey-${survey.scale}-v1`, sendKey: (facts.data.sendKey as string | undefined) ?? null });
    if (!stored) return html(reply, messagePage(l, t('invalid', l), t('invalid', l)), 410);
    // The same answer submitted twice is one event; a changed answer is a new one.
    const answerHash = crypto.createHash('sha256').update(`${score}\0${comment}`).digest('hex').slice(0, 16);
    await ctx.emit({
      contactId: ok.claims.contactId, name: 'survey.answered', at,
      data: { ...facts.data, surveyId: survey.id, scale: survey.scale, score, commented: comment.length > 0 },
      eventId: deterministicEventId('survey.answered', ok.claims.contactId, survey.id, ok.claims.sendRef ?? '', answerHash),
    });
    return html(reply, messagePage(l, t('surveyTitle', l), t('surveyThanks', l)));
  });
}
