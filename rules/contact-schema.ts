/**
 * The contact as expressions see it (`contact.*` in CEL), and where each field lives in the
 * stored MongoDB document. One table serves three users: the CEL type checker, the MongoDB
 * pushdown of segment filters, and the data layer that builds the view from a stored document.
 *
 * Timestamps are CEL `google.protobuf.Timestamp` values; in the view they are JS Dates or null.
 */
export type CelFieldType = 'string' | 'int' | 'double' | 'bool' | 'timestamp' | 'list<string>' | 'map<string,dyn>';

export interface ContactField {
  /** Path in CEL under `contact.`, e.g. "consent.email". */
  path: string;
  type: CelFieldType;
  /** Dotted path in the stored contact document; null when not stored as-is (computed). */
  mongoPath: string | null;
  /** May be null/absent. */
  nullable: boolean;
  doc: string;
}

export const CONTACT_FIELDS: readonly ContactField[] = [
  { path: 'id', type: 'string', mongoPath: '_id', nullable: false, doc: 'Contact id (string form of the document _id).' },
  { path: 'externalId', type: 'string', mongoPath: 'externalId', nullable: true, doc: 'Id in the customer system.' },
  { path: 'emailDomain', type: 'string', mongoPath: 'emailDomain', nullable: true, doc: 'ASCII (punycode) domain of the address, lower-case.' },
  { path: 'emailStatus', type: 'string', mongoPath: 'emailStatus', nullable: false, doc: 'unverified | pending | verified | bounced | complained | invalid | dormant' },
  { path: 'emailVerifiedAt', type: 'timestamp', mongoPath: 'emailVerifiedAt', nullable: true, doc: 'When the address was last confirmed.' },
  { path: 'emailRole', type: 'bool', mongoPath: 'emailFlags.role', nullable: false, doc: 'Role address such as info@ or sales@.' },
  { path: 'emailDisposable', type: 'bool', mongoPath: 'emailFlags.disposable', nullable: false, doc: 'Disposable mailbox domain.' },
  { path: 'firstName', type: 'string', mongoPath: 'firstName', nullable: true, doc: 'Given name.' },
  { path: 'lastName', type: 'string', mongoPath: 'lastName', nullable: true, doc: 'Family name.' },
  { path: 'locale', type: 'string', mongoPath: 'locale', nullable: true, doc: 'BCP 47 locale, e.g. zh-CN.' },
  { path: 'timezone', type: 'string', mongoPath: 'timezone', nullable: true, doc: 'IANA time zone, e.g. Asia/Shanghai.' },
  { path: 'birthdayMonth', type: 'int', mongoPath: 'birthday.month', nullable: true, doc: 'Birthday month 1-12.' },
  { path: 'birthdayDay', type: 'int', mongoPath: 'birthday.day', nullable: true, doc: 'Birthday day of month 1-31.' },
  { path: 'tags', type: 'list<string>', mongoPath: 'tags', nullable: false, doc: 'Tags, lower-case.' },
  { path: 'consent.email', type: 'string', mongoPath: 'consent.email.status', nullable: false, doc: 'subscribed | unsubscribed | pending | unknown' },
  { path: 'consent.sms', type: 'string', mongoPath: 'consent.sms.status', nullable: false, doc: 'subscribed | unsubscribed | pending | unknown' },
  { path: 'consent.phone', type: 'string', mongoPath: 'consent.phone.status', nullable: false, doc: 'subscribed | unsubscribed | pending | unknown' },
  { path: 'source', type: 'string', mongoPath: 'source', nullable: true, doc: 'Where the contact came from (signup_form, import, api, pos, ...).' },
  { path: 'channel', type: 'string', mongoPath: 'channel', nullable: true, doc: 'Acquisition channel (organic, ads, referral, ...).' },
  { path: 'lifecycle', type: 'string', mongoPath: 'classification.lifecycle.value', nullable: true, doc: 'new | active | at_risk | churned' },
  { path: 'importance', type: 'string', mongoPath: 'classification.importance.value', nullable: true, doc: 'vip | potential | normal' },
  { path: 'rfm', type: 'string', mongoPath: 'classification.rfm.value', nullable: true, doc: 'RFM segment name, e.g. champions.' },
  { path: 'businessType', type: 'string', mongoPath: 'classification.businessType.value', nullable: true, doc: 'pre_sales | after_sales | complaint (the business the contact has with us).' },
  { path: 'rfmScore.recency', type: 'int', mongoPath: 'rfmScore.recency', nullable: true, doc: 'RFM recency score 0-5 from the last order (0: never ordered; null: not scored yet).' },
  { path: 'rfmScore.frequency', type: 'int', mongoPath: 'rfmScore.frequency', nullable: true, doc: 'RFM frequency score 0-5 from the number of orders.' },
  { path: 'rfmScore.monetary', type: 'int', mongoPath: 'rfmScore.monetary', nullable: true, doc: 'RFM monetary score 0-5 from the sum of order amounts.' },
  { path: 'engagement.opens', type: 'int', mongoPath: 'engagement.opens', nullable: false, doc: 'Human opens counted.' },
  { path: 'engagement.clicks', type: 'int', mongoPath: 'engagement.clicks', nullable: false, doc: 'Clicks counted.' },
  { path: 'engagement.orders', type: 'int', mongoPath: 'engagement.orders', nullable: false, doc: 'Orders counted.' },
  { path: 'engagement.revenue', type: 'double', mongoPath: 'engagement.revenue', nullable: false, doc: 'Sum of order amounts.' },
  { path: 'engagement.lastOpenAt', type: 'timestamp', mongoPath: 'engagement.lastOpenAt', nullable: true, doc: 'Last human open.' },
  { path: 'engagement.lastClickAt', type: 'timestamp', mongoPath: 'engagement.lastClickAt', nullable: true, doc: 'Last click.' },
  { path: 'engagement.lastOrderAt', type: 'timestamp', mongoPath: 'engagement.lastOrderAt', nullable: true, doc: 'Last order.' },
  { path: 'lastActivityAt', type: 'timestamp', mongoPath: 'lastActivityAt', nullable: true, doc: 'Last open, click, order or signup.' },
  { path: 'createdAt', type: 'timestamp', mongoPath: 'createdAt', nullable: false, doc: 'When the contact was created.' },
  { path: 'attributes', type: 'map<string,dyn>', mongoPath: 'attributes', nullable: false, doc: 'Custom attributes.' },
  { path: 'owner', type: 'string', mongoPath: 'owner', nullable: true, doc: 'Id of the contact\'s owner (a user: sales or service), who gets the tasks of task steps.' },
  { path: 'surveys', type: 'map<string,dyn>', mongoPath: 'surveys', nullable: false, doc: 'Survey answers by survey id: { score, comment, at } (surveys.order_csat.score).' },
];

/** The `contact` value bound in CEL. Built by the data layer from a stored document (no email or phone: PII stays out). */
export interface ContactView {
  id: string;
  externalId: string | null;
  emailDomain: string | null;
  emailStatus: string;
  emailVerifiedAt: Date | null;
  emailRole: boolean;
  emailDisposable: boolean;
  firstName: string | null;
  lastName: string | null;
  locale: string | null;
  timezone: string | null;
  birthdayMonth: number | null;
  birthdayDay: number | null;
  tags: string[];
  consent: { email: string; sms: string; phone: string };
  source: string | null;
  channel: string | null;
  lifecycle: string | null;
  importance: string | null;
  rfm: string | null;
  businessType: string | null;
  /** RFM scores as last stored by classification (data/rfm-score.ts); null members before the first pass. */
  rfmScore: { recency: number | null; frequency: number | null; monetary: number | null };
  engagement: {
    opens: number; clicks: number; orders: number; revenue: number;
    lastOpenAt: Date | null; lastClickAt: Date | null; lastOrderAt: Date | null;
  };
  lastActivityAt: Date | null;
  createdAt: Date;
  attributes: Record<string, unknown>;
  owner: string | null;
  surveys: Record<string, SurveyAnswerView>;
}

/** RFM scores, each 0-5 (data/rfm-score.ts). */
export interface RfmScore { recency: number; frequency: number; monetary: number }
/** A stored survey answer as expressions see it (`contact.surveys.<id>`). */
export interface SurveyAnswerView { score: number; comment: string | null; at: Date }

/** The `event` value bound in CEL (trigger, goal, wait_for correlation). */
export interface EventView { name: string; at: Date; data: Record<string, unknown> }
/** The `journey` value bound in CEL. */
export interface JourneyView { id: string; version: number; startedAt: Date }
