/**
 * The journey `webhook` step's side effect: one signed JSON POST to a URL the journey names.
 *
 * Delivery guarantee: at least once, recognisable. Every attempt of one step in one run iteration
 * carries the same `Idempotency-Key` (a hash of the run scope, step id and iteration), so a receiver
 * that stores the keys it has seen applies the call once even when it arrives twice: after a retry
 * whose first attempt did reach it (the answer was lost, the worker died after the POST). Only the
 * activity's completion tells the run the call is done, so a worker crash between the POST and the
 * completion makes Temporal retry it with the same key. Answers:
 *   - 2xx: delivered; the mapped response fields (`set_from_response`) update the contact.
 *   - 408, 429, 5xx, timeouts and network errors: a retryable failure, retried by Temporal with backoff
 *     (workflows/activities.ts) until `retryHours` after the first attempt, then the outcome `failed`
 *     (`gave_up`); the run goes on.
 *   - any other 4xx, a 3xx (redirects are not followed), a refused address: `failed` at once (final).
 *
 * The body's expressions are evaluated here, against the contact read here: the values (which may be
 * personal data the receiver needs) never enter the run's history or a log, only ids and the outcome.
 *
 * SSRF: the address actually connected to is checked (a `lookup` hook on the socket, so a name that
 * resolves to 10.0.0.1, or re-resolves differently, is refused): outside development mode no private,
 * loopback, link-local or otherwise non-public address (rules/outbound-url.ts), https only, and, when
 * SOJOURN_WEBHOOK_ALLOWED_HOSTS is set, only those hosts.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ContactStore } from './contact-store';
import { evaluate } from '../rules/evaluate';
import type { Expr } from '../rules/plan';
import { isLocalHostName, isNonPublicAddress, outboundUrlProblem } from '../rules/outbound-url';
import { signPayload } from '../lib/webhook-signature';
import type { StepWebhookConfig } from '../lib/config';

export interface WebhookCallInput {
  /** `${run scope}:${stepId}:${iteration}`: the same on every retry of this step in this iteration. */
  key: string;
  contactId: string;
  journeyId: string;
  stepId: string;
  url: string;
  body: Record<string, Expr | string | number | boolean | null>;
  setFromResponse?: Record<string, string>;
  /** Bindings of the body's expressions besides the contact (workflow time, the journey). */
  now: string;
  journey: { id: string; version: number; startedAt: string; params: Record<string, unknown> };
  defaultTimezone: string;
}

/** Outcomes are values: the run records them and goes on. Never a personal value, only codes. */
export type WebhookCallResult =
  | { outcome: 'delivered'; status: number; attempt: number; updated: string[] }
  | { outcome: 'failed'; status: number | null; attempt: number; reason: WebhookFailReason };

export type WebhookFailReason =
  | 'contact_gone' | 'url_refused' | 'address_refused' | 'no_signing_secret' | 'http_4xx' | 'redirect' | 'gave_up';

export interface WebhookStepActivities {
  callWebhook(input: WebhookCallInput): Promise<WebhookCallResult>;
}

export interface WebhookStepDeps {
  contacts: Pick<ContactStore, 'getContactView' | 'applyContactUpdate'>;
  config: StepWebhookConfig;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Largest answer read for set_from_response (default 64 KiB); a larger answer still counts as delivered. */
  maxResponseBytes?: number;
}

/** The header value: a hash of the run's key, so the receiver sees a stable opaque id. */
export function idempotencyKeyOf(key: string): string {
  return createHash('sha256').update(`webhook-step:${key}`).digest('base64url').slice(0, 32);
}

/** Whether the configuration lets a call reach this host name (before resolution). */
export function hostAllowed(host: string, cfg: StepWebhookConfig): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (cfg.allowedHosts.length && !cfg.allowedHosts.some((a) => (a.startsWith('.') ? h.endsWith(a) : h === a))) return false;
  if (cfg.development) return true;
  return !isLocalHostName(h) && isNonPublicAddress(h) !== true;
}

class RefusedAddress extends Error {
  readonly code = 'E_ADDRESS_REFUSED';
}

/** A socket `lookup` that refuses non-public answers: the check applies to the address connected to. */
function guardedLookup(development: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return (callback as (e: Error) => void)(err);
      const list = addresses as dns.LookupAddress[];
      const ok = development ? list : list.filter((a) => isNonPublicAddress(a.address) === false);
      if (!ok.length) return (callback as (e: Error) => void)(new RefusedAddress(`${hostname} resolves only to non-public addresses`));
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, ok);
      return callback(null, ok[0].address, ok[0].family);
    });
  };
}

interface Answer { status: number; json: unknown }

function post(url: URL, body: string, headers: Record<string, string>, deps: Required<Pick<WebhookStepDeps, 'timeoutMs' | 'maxResponseBytes'>> & { development: boolean }): Promise<Answer> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(deps.development), timeout: deps.timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= deps.maxResponseBytes) chunks.push(c);
      });
      res.on('end', () => {
        let json: unknown = null;
        if (size <= deps.maxResponseBytes && /json/i.test(String(res.headers['content-type'] ?? ''))) {
          try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { json = null; }
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** A dotted path into a JSON value; only scalars are taken. */
function pick(json: unknown, path: string): string | number | boolean | null | undefined {
  let v: unknown = json;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return typeof v === 'string' ? v.slice(0, 1000) : v;
  return undefined;
}

function activityInfo(): { attempt: number; firstScheduledMs: number } {
  try {
    const info = Context.current().info;
    return { attempt: info.attempt, firstScheduledMs: info.scheduledTimestampMs };
  } catch {
    return { attempt: 1, firstScheduledMs: Date.now() };
  }
}

export function createWebhookStepActivities(deps: WebhookStepDeps): WebhookStepActivities {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const maxResponseBytes = deps.maxResponseBytes ?? 64 * 1024;
  const cfg = deps.config;
  return {
    async callWebhook(input) {
      const { attempt, firstScheduledMs } = activityInfo();
      const failed = (reason: WebhookFailReason, status: number | null = null): WebhookCallResult => ({ outcome: 'failed', status, attempt, reason });
      if (!cfg.secret) return failed('no_signing_secret');
      if (outboundUrlProblem(input.url)) return failed('url_refused');
      const url = new URL(input.url);
      if ((!cfg.development && url.protocol !== 'https:') || !hostAllowed(url.hostname, cfg)) return failed('url_refused');

      const contact = await deps.contacts.getContactView(input.contactId);
      if (!contact) return failed('contact_gone');
      const bindings = {
        contact, now: new Date(input.now), defaultTimezone: input.defaultTimezone,
        journey: { ...input.journey, startedAt: new Date(input.journey.startedAt) },
      };
      const payload: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input.body)) {
        if (v === null || typeof v !== 'object') { payload[k] = v; continue; }
        try {
          const value = evaluate(v, bindings);
          payload[k] = value instanceof Date ? value.toISOString() : value;
        } catch {
          payload[k] = null; // a missing attribute: the receiver sees null, as CEL's has() would say
        }
      }
      const body = JSON.stringify(payload);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Sojourn-Journey-Webhook/1',
        'idempotency-key': idempotencyKeyOf(input.key),
        'sojourn-delivery-attempt': String(attempt),
        'sojourn-signature': signPayload(cfg.secret, body, new Date()),
      };
      let answer: Answer | null = null;
      let error = '';
      try {
        answer = await post(url, body, headers, { timeoutMs, maxResponseBytes, development: cfg.development });
      } catch (err) {
        if (err instanceof RefusedAddress || (err as { cause?: unknown }).cause instanceof RefusedAddress) return failed('address_refused');
        error = (err as { code?: string }).code ?? (err as Error).name;
      }
      const status = answer?.status ?? null;
      if (answer && status !== null && status >= 200 && status < 300) {
        const set: Record<string, unknown> = {};
        for (const [field, path] of Object.entries(input.setFromResponse ?? {})) {
          const v = pick(answer.json, path);
          if (v !== undefined && (field.startsWith('attributes.') || typeof v === 'string' || v === null)) set[field] = v;
        }
        if (Object.keys(set).length) await deps.contacts.applyContactUpdate(input.contactId, { set });
        return { outcome: 'delivered', status, attempt, updated: Object.keys(set) };
      }
      if (status !== null && status >= 300 && status < 400) return failed('redirect', status);
      if (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429) return failed('http_4xx', status);
      if (Date.now() - firstScheduledMs >= cfg.retryHours * 3_600_000) return failed('gave_up', status);
      throw ApplicationFailure.retryable(`webhook call answered ${status ?? error}; retrying`, 'WebhookTemporaryFailure');
    },
  };
}
