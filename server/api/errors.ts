/** API errors as JSON: { error: { code, message, pointer } }, pointer = JSON pointer of the bad field. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ContactError } from '../../data/contacts';
import { scrubPii } from '../../lib/logger';
import { isDatabaseUnavailable } from '../../lib/dependency-health';

/** Seconds a client should wait before retrying while the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

export interface ApiError { code: string; message: string; pointer: string }

/** A request refused before any handler ran (body encoding, nesting depth): always a 4xx with a pointer. */
export class RequestError extends Error {
  constructor(readonly code: string, message: string, readonly pointer: string, readonly status = 400) {
    super(message);
    this.name = 'RequestError';
  }
}

export function sendError(reply: FastifyReply, status: number, error: ApiError) {
  return reply.code(status).send({ error });
}

/** The JSON pointer an Ajv error is about (instancePath plus the missing/extra property). */
export function ajvPointer(e: Pick<ErrorObject, 'instancePath' | 'params' | 'keyword'>): string {
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  const extra = p.missingProperty ?? p.additionalProperty;
  return extra ? `${e.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}` : e.instancePath;
}

export function ajvMessage(e: ErrorObject): string {
  const p = e.params as { additionalProperty?: string };
  if (e.keyword === 'additionalProperties') return `unknown property "${p.additionalProperty}"`;
  return e.message ?? 'invalid';
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err.validation && err.validation.length) {
    const e = err.validation[0] as ErrorObject;
    const ctx = err.validationContext && err.validationContext !== 'body' ? `/${err.validationContext}` : '';
    return sendError(reply, 400, { code: 'E_VALIDATION', message: ajvMessage(e), pointer: ctx + ajvPointer(e) });
  }
  if (err instanceof RequestError) return sendError(reply, err.status, { code: err.code, message: err.message, pointer: err.pointer });
  if (err instanceof ContactError) return sendError(reply, err.status, { code: err.code, message: err.message, pointer: err.pointer });
  // Nothing was stored (the write never reached the database), so the client may simply retry.
  if (isDatabaseUnavailable(err)) {
    reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return sendError(reply, 503, { code: 'E_UNAVAILABLE', message: `the database is unavailable; nothing was stored, retry after ${RETRY_AFTER_SECONDS} s`, pointer: '' });
  }
  if (err.statusCode && err.statusCode < 500) {
    return sendError(reply, err.statusCode, { code: err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.statusCode === 400 ? 'E_BAD_REQUEST' : err.code ?? 'E_REQUEST', message: scrubPii(err.message), pointer: '' });
  }
  req.log.error({ err: { message: scrubPii(err.message), code: err.code } }, 'request failed');
  return sendError(reply, 500, { code: 'E_INTERNAL', message: 'internal error', pointer: '' });
}
