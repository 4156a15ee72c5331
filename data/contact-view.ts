/**
 * The `contact` value bound in CEL, built from a stored contact document. It carries no email address
 * and no phone number: expressions and workflow payloads never see PII.
 */
import type { ContactView } from '../rules/contact-schema';
import type { ContactDoc } from './contact-model';

type Stored = Partial<ContactDoc> & { _id: unknown };

const date = (v: unknown): Date | null => (v instanceof Date ? v : v ? new Date(v as string) : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function toContactView(doc: Stored): ContactView {
  const e = doc.engagement;
  const c = doc.classification ?? {};
  return {
    id: String(doc._id),
    externalId: str(doc.externalId),
    emailDomain: str(doc.emailDomain),
    emailStatus: doc.emailStatus ?? 'unverified',
    emailVerifiedAt: date(doc.emailVerifiedAt),
    emailRole: Boolean(doc.emailFlags?.role),
    emailDisposable: Boolean(doc.emailFlags?.disposable),
    firstName: str(doc.firstName),
    lastName: str(doc.lastName),
    locale: str(doc.locale),
    timezone: str(doc.timezone),
    birthdayMonth: doc.birthday?.month ?? null,
    birthdayDay: doc.birthday?.day ?? null,
    tags: [...(doc.tags ?? [])],
    consent: {
      email: doc.consent?.email?.status ?? 'unknown',
      sms: doc.consent?.sms?.status ?? 'unknown',
      phone: doc.consent?.phone?.status ?? 'unknown',
    },
    source: str(doc.source),
    channel: str(doc.channel),
    lifecycle: c.lifecycle?.value ?? null,
    importance: c.importance?.value ?? null,
    rfm: c.rfm?.value ?? null,
    businessType: c.businessType?.value ?? null,
    rfmScore: { recency: int(doc.rfmScore?.recency), frequency: int(doc.rfmScore?.frequency), monetary: int(doc.rfmScore?.monetary) },
    engagement: {
      opens: e?.opens ?? 0,
      clicks: e?.clicks ?? 0,
      orders: e?.orders ?? 0,
      revenue: e?.revenue ?? 0,
      lastOpenAt: date(e?.lastOpenAt),
      lastClickAt: date(e?.lastClickAt),
      lastOrderAt: date(e?.lastOrderAt),
    },
    lastActivityAt: date(doc.lastActivityAt),
    createdAt: date(doc.createdAt) ?? new Date(0),
    attributes: { ...(doc.attributes ?? {}) },
    owner: str(doc.owner),
    surveys: Object.fromEntries(Object.entries(doc.surveys ?? {}).map(([id, a]) => [id, { score: a.score, comment: a.comment ?? null, at: date(a.at) ?? new Date(0) }])),
  };
}
