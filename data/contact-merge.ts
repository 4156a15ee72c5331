/**
 * Pure merge planning: what writing a prepared input onto a stored contact changes. Shared by the
 * API upsert, the CSV import (which also merges duplicate rows in memory) and contact creation
 * (a new contact is an empty skeleton plus a plan). No I/O here, so the rules are unit-tested.
 *
 * Rules: the stored address is never rewritten when the dedupe key matches; scalar fields given
 * overwrite; tags and phones are unions; attributes merge by key; `source` and `channel` keep their
 * first value; an `unsubscribed` consent is never undone here (only a confirmed re-opt-in can,
 * see applyContactUpdate's `reconsent`).
 */
import { Types } from 'mongoose';
import { keyedHash } from '../lib/crypto';
import { protectPhone, type PhoneKeys } from '../lib/phone';
import type { Channel, ContactDoc, ConsentStatus } from './contact-model';
import type { PreparedContact, InputError } from './contact-input';

export interface MergeContext {
  keys: PhoneKeys;
  now: Date;
  source: string;
}

export interface ConsentChange {
  channel: Channel;
  status: ConsentStatus;
  recordId: string;
  previousRecordId: string | null;
}

export interface MergePlan {
  /** MongoDB $set paths -> values. Empty plan = nothing to write. */
  set: Record<string, unknown>;
  consent: ConsentChange[];
  /** Parts of the input deliberately not applied (e.g. re-subscribing an unsubscribed contact). */
  ignored: InputError[];
  /** The email consent became unsubscribed: add the address to the suppression list. */
  suppress: boolean;
}

/** Deterministic consent record id: the same change from the same state always gets the same id. */
export function consentRecordId(secret: string, contactId: string, channel: Channel, status: ConsentStatus, previous: string | null): string {
  return keyedHash(secret, 'consent', `${contactId}|${channel}|${status}|${previous ?? ''}`).slice(0, 32);
}

/** A contact with nothing set yet (the creation path plans onto this). */
export function emptyContact(id: Types.ObjectId, now: Date, source: string): ContactDoc {
  const none = { status: 'unknown' as const, recordId: null, at: null };
  return {
    _id: id,
    emailFlags: { role: false, disposable: false, alias: false, idn: false },
    emailStatus: 'unverified',
    emailStatusAt: now,
    emailVerifiedAt: null,
    nextVerificationAt: null,
    phones: [],
    phoneIndex: [],
    tags: [],
    journeysEntered: [],
    attributes: {},
    source,
    consent: { email: { ...none }, sms: { ...none }, phone: { ...none } },
    doubleOptIn: { state: 'none', requestedAt: null, confirmedAt: null },
    classification: {},
    engagement: { opens: 0, clicks: 0, orders: 0, revenue: 0, lastOpenAt: null, lastClickAt: null, lastOrderAt: null, appliedEventIds: [] },
    lastActivityAt: null,
    createdAt: now,
    updatedAt: now,
    erasedAt: null,
    rev: 0,
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What writing `p` onto `doc` changes. */
export function planMerge(doc: ContactDoc, p: PreparedContact, ctx: MergeContext): MergePlan {
  const set: Record<string, unknown> = {};
  const plan: MergePlan = { set, consent: [], ignored: [], suppress: false };
  const id = String(doc._id);

  if (p.email && doc.emailKey !== p.email.key) {
    // A new address (creation, or a contact found by externalId that changed address).
    Object.assign(set, {
      email: p.email.address,
      emailKey: p.email.key,
      aliasKey: p.email.aliasKey,
      emailDomain: p.email.domain,
      emailFlags: p.email.flags,
    });
    if (doc.emailKey !== undefined) Object.assign(set, { emailStatus: 'unverified', emailStatusAt: ctx.now, emailVerifiedAt: null });
  }
  if (p.externalId && doc.externalId !== p.externalId) set.externalId = p.externalId;
  if (p.phone) {
    const stored = protectPhone(ctx.keys, p.phone, ctx.source, ctx.now, id);
    if (!doc.phoneIndex.includes(stored.index)) {
      set.phones = [...doc.phones, stored];
      set.phoneIndex = [...doc.phoneIndex, stored.index];
    }
  }
  for (const [k, v] of Object.entries(p.fields)) {
    if (k === 'channel') {
      if (!doc.channel) set.channel = v;
    } else if (!same((doc as unknown as Record<string, unknown>)[k], v)) set[k] = v;
  }
  const newTags = p.tags.filter((t) => !doc.tags.includes(t));
  if (newTags.length) set.tags = [...doc.tags, ...newTags];
  for (const [k, v] of Object.entries(p.attributes)) {
    if (!same(doc.attributes?.[k], v)) set[`attributes.${k}`] = v;
  }
  for (const [ch, status] of Object.entries(p.consent) as [Channel, ConsentStatus][]) {
    const cur = doc.consent[ch];
    if (cur.status === status) continue;
    if (cur.status === 'unsubscribed') {
      plan.ignored.push({ code: 'E_CONSENT_LOCKED', message: `consent.${ch} stays unsubscribed: only the person can re-subscribe (double opt-in)`, pointer: `/consent/${ch}` });
      continue;
    }
    const recordId = consentRecordId(ctx.keys.secret, id, ch, status, cur.recordId);
    plan.consent.push({ channel: ch, status, recordId, previousRecordId: cur.recordId });
    set[`consent.${ch}`] = { status, recordId, at: ctx.now };
    if (ch === 'email' && status === 'pending' && doc.doubleOptIn.state !== 'pending') set.doubleOptIn = { state: 'pending', requestedAt: ctx.now, confirmedAt: null };
    if (ch === 'email' && status === 'unsubscribed') plan.suppress = true;
  }
  return plan;
}

export function isEmptyPlan(plan: MergePlan): boolean {
  return Object.keys(plan.set).length === 0;
}

/** Applies a plan's $set paths to an in-memory document (for in-file merges and new documents). */
export function applyPlan(doc: ContactDoc, plan: MergePlan): ContactDoc {
  for (const [path, value] of Object.entries(plan.set)) {
    const parts = path.split('.');
    let target = doc as unknown as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    target[parts[parts.length - 1]] = value;
  }
  return doc;
}

/** Folds a later plan into an earlier one (later values win; consent changes accumulate). */
export function combinePlans(a: MergePlan, b: MergePlan): MergePlan {
  const set = { ...a.set };
  for (const [k, v] of Object.entries(b.set)) {
    // A later whole-object write replaces earlier writes below it (e.g. "attributes.x" then "attributes").
    for (const old of Object.keys(set)) if (old.startsWith(`${k}.`)) delete set[old];
    set[k] = v;
  }
  return { set, consent: [...a.consent, ...b.consent], ignored: [...a.ignored, ...b.ignored], suppress: a.suppress || b.suppress };
}
