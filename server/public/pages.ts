/**
 * The small HTML pages behind email links. Text in English and Chinese, chosen by Accept-Language.
 * Every state change happens through a form POST; these pages only render.
 */
import Handlebars from 'handlebars';

export type Lang = 'en' | 'zh';

export function langOf(acceptLanguage: string | undefined): Lang {
  return /^\s*zh/i.test(acceptLanguage ?? '') ? 'zh' : 'en';
}

const esc = Handlebars.escapeExpression;

export const TEXT = {
  invalid: { en: 'This link is not valid.', zh: '此链接无效。' },
  expired: { en: 'This link has expired.', zh: '此链接已过期。' },
  used: { en: 'This link has already been used.', zh: '此链接已被使用。' },
  unsubscribeTitle: { en: 'Unsubscribe', zh: '退订' },
  unsubscribeAsk: { en: 'Stop receiving marketing emails from Sojourn?', zh: '不再接收 Sojourn 的营销邮件？' },
  unsubscribeButton: { en: 'Unsubscribe', zh: '确认退订' },
  unsubscribed: { en: 'You are unsubscribed. You will not receive marketing emails from us any more.', zh: '您已退订，我们将不再向您发送营销邮件。' },
  preferencesTitle: { en: 'Email preferences', zh: '邮件偏好设置' },
  pause: { en: 'Pause marketing emails', zh: '暂停营销邮件' },
  pauseNone: { en: 'Do not pause', zh: '不暂停' },
  pause30: { en: 'For 30 days', zh: '30 天' },
  pause90: { en: 'For 90 days', zh: '90 天' },
  unsubscribeAll: { en: 'Unsubscribe from all marketing emails', zh: '退订所有营销邮件' },
  save: { en: 'Save', zh: '保存' },
  saved: { en: 'Your preferences are saved.', zh: '您的偏好已保存。' },
  confirmTitle: { en: 'Confirm your subscription', zh: '确认订阅' },
  confirmButton: { en: 'Yes, subscribe me', zh: '是的，订阅' },
  confirmed: { en: 'Thank you, your subscription is confirmed.', zh: '谢谢，您的订阅已确认。' },
  verifyTitle: { en: 'Verify your email address', zh: '验证邮箱地址' },
  verifyButton: { en: 'Verify my address', zh: '验证地址' },
  verified: { en: 'Thank you, your email address is verified.', zh: '谢谢，您的邮箱地址已验证。' },
  surveyTitle: { en: 'How did we do?', zh: '您的评价' },
  surveyAskCsat: { en: 'How satisfied are you? (1 = very poor, 5 = excellent)', zh: '您满意吗？（1 = 很差，5 = 非常满意）' },
  surveyAskNps: { en: 'How likely are you to recommend us to a friend? (0 = not at all, 10 = very likely)', zh: '您有多大可能向朋友推荐我们？（0 = 完全不会，10 = 非常可能）' },
  surveyComment: { en: 'Anything you would like to add? (optional)', zh: '还有什么想告诉我们的吗？（选填）' },
  surveySend: { en: 'Send my answer', zh: '提交评价' },
  surveyThanks: { en: 'Thank you, your answer is saved. You can change it with the same link.', zh: '谢谢，您的评价已保存。您可以通过同一链接修改。' },
  surveyTooLong: { en: 'The comment is too long (at most 1,000 characters).', zh: '留言太长（最多 1000 字）。' },
  surveyBadScore: { en: 'Please choose a score.', zh: '请选择一个评分。' },
  topic_news: { en: 'News and travel ideas', zh: '资讯与旅行灵感' },
  topic_offers: { en: 'Offers and gifts', zh: '优惠与礼品' },
} as const satisfies Record<string, Record<Lang, string>>;

export function t(key: keyof typeof TEXT, lang: Lang): string {
  return TEXT[key][lang];
}

/** A complete page. `body` is trusted HTML built by the callers from escaped parts. */
export function page(lang: Lang, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title>
<style>body{margin:0;background:#f4f1ec;font:16px/1.6 Arial,"PingFang SC","Microsoft YaHei",sans-serif;color:#222}
main{max-width:480px;margin:48px auto;background:#fff;border-radius:8px;padding:32px}
h1{font:bold 22px/1.3 Georgia,serif;color:#2f6f5e;margin:0 0 16px}
button{background:#2f6f5e;color:#fff;border:0;border-radius:6px;padding:12px 24px;font-size:16px;cursor:pointer}
label{display:block;margin:8px 0}</style></head>
<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

/** A page with one button that POSTs back to the same URL (so link scanners, which GET, change nothing). */
export function buttonPage(lang: Lang, title: string, question: string, button: string, action: string, hidden: Record<string, string> = {}): string {
  const inputs = Object.entries(hidden).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
  return page(lang, title, `<p>${esc(question)}</p><form method="post" action="${esc(action)}">${inputs}<button type="submit">${esc(button)}</button></form>`);
}

export function messagePage(lang: Lang, title: string, message: string): string {
  return page(lang, title, `<p>${esc(message)}</p>`);
}
