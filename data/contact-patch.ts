/**
 * Partial update of a contact by JSON Merge Patch (RFC 7396, `PATCH /v1/contacts/{id}`): a member
 * with a value sets the field, `null` removes it, a member left out is untouched; `attributes` merges
 * key by key (a `null` attribute is removed); `tags` is replaced as a whole (merge patch replaces
 * arrays). Values go through the same checks as an import or upsert (data/contact-input.ts
 * `prepareContact`, lenient: a bad secondary field is dropped and reported as a warning, like a CSV
 * cell). Address, external id, phones and consent are not patchable here: they have their own doors
 * (upsert, `POST /v1/contacts/{id}/consent`), which keep their evidence and dedupe rules.
 *
 * Written as one compare-and-set on `rev`: a concurrent write makes it re-read and re-plan.
 */
import { ContactModel, type ContactDoc } from './contact-model';
import { prepareContact, type ContactInput, type InputError } from './contact-input';
import { ContactError, getContact } from './contacts';

export const PATCHABLE_FIELDS = ['firstName', 'lastName', 'locale', 'timezone', 'birthday', 'channel', 'tags', 'attributes'] as const;
export type ContactPatch = Partial<{
  firstName: string | null; lastName: string | null; locale: string | null; timezone: string | null; channel: string | null;
  birthday: ContactInput['birthday']; tags: string[] | null; attributes: Record<string, unknown> | null;
}>;

/** A field the patch did not apply, as the import reports it (same codes and pointers). */
export type PatchWarning = InputError & { kind?: string; value?: string };

export type PatchResult = { found: false } | { found: true; contact: ContactDoc; changed: boolean; warnings: PatchWarning[] };

const MAX_RETRIES = 5;

/** Checks a patch and turns it into $set/$unset, or throws ContactError naming the field. */
export function planPatch(patch: ContactPatch): { set: Record<string, unknown>; unset: string[]; warnings: PatchWarning[] } {
  const input: ContactInput = { externalId: 'patch' };
  const unset: string[] = [];
  for (const k of ['firstName', 'lastName', 'locale', 'timezone', 'channel', 'birthday'] as const) {
    if (!(k in patch)) continue;
    const v = patch[k];
    if (v === null || v === '') unset.push(...(k === 'birthday' ? ['birthday', 'birthdayMonthDay'] : [k]));
    else (input as Record<string, unknown>)[k] = v;
  }
  if (patch.tags) input.tags = patch.tags;
  const attrs = patch.attributes ?? {};
  const attrValues = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== null));
  if (Object.keys(attrValues).length) input.attributes = attrValues;
  // Lenient, like the import: a bad secondary field is left out and reported (where data/contact-input.ts supports it).
  const r = prepareContact(input, { requireEmail: false, ...({ lenient: true } as object) });
  if (!r.ok) throw new ContactError(r.error.code, r.error.message, r.error.pointer);
  const warnings = ((r as { warnings?: PatchWarning[] }).warnings ?? []).map((w) => ({ ...w }));
  const f = r.contact.fields;
  const set: Record<string, unknown> = {};
  for (const k of ['firstName', 'lastName', 'locale', 'timezone', 'channel', 'birthday', 'birthdayMonthDay'] as const) {
    if (f[k] !== undefined) set[k] = f[k];
  }
  if ('tags' in patch) set.tags = patch.tags === null ? [] : r.contact.tags;
  for (const [k, v] of Object.entries(attrs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k)) throw new ContactError('E_ATTRIBUTE', 'attribute names are letters, digits and "_" (max 64)', `/attributes/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (v === null) unset.push(`attributes.${k}`);
    else if (k in r.contact.attributes) set[`attributes.${k}`] = r.contact.attributes[k];
  }
  return { set, unset, warnings };
}

/** Applies a merge patch to a live contact (compare-and-set on rev). */
export async function patchContact(id: string, patch: ContactPatch, now = () => new Date()): Promise<PatchResult> {
  const { set, unset, warnings } = planPatch(patch);
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const doc = await getContact(id);
    if (!doc || doc.erasedAt) return { found: false };
    const stored = doc as unknown as Record<string, unknown>;
    const changedSet = Object.fromEntries(Object.entries(set).filter(([k, v]) => JSON.stringify(read(stored, k) ?? null) !== JSON.stringify(v)));
    const changedUnset = unset.filter((k) => read(stored, k) !== undefined && read(stored, k) !== null);
    if (!Object.keys(changedSet).length && !changedUnset.length) return { found: true, contact: doc, changed: false, warnings };
    const update: Record<string, unknown> = { $set: { ...changedSet, updatedAt: now() }, $inc: { rev: 1 } };
    if (changedUnset.length) update.$unset = Object.fromEntries(changedUnset.map((k) => [k, '']));
    const res = await ContactModel.collection.updateOne({ _id: doc._id, rev: doc.rev }, update);
    if (res.matchedCount === 0) continue;
    return { found: true, contact: (await getContact(doc._id)) as ContactDoc, changed: true, warnings };
  }
  throw new ContactError('E_CONFLICT', 'the contact changed concurrently too many times; retry', '', 409);
}

function read(doc: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
}
