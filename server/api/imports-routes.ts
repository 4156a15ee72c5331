/**
 * CSV imports over HTTP: `POST /v1/imports` with the file as the body (`Content-Type: text/csv`)
 * answers 202 with a job id at once; `GET /v1/imports/{id}` shows rows done, rate, ETA and, when done,
 * the same report as `sojourn contacts import --format json`. Same importer (data/import.ts).
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createContacts, ContactError } from '../../data/contacts';
import { checkMapping } from '../../data/import';
import { importProgress, startImportJob, startImportRecovery } from '../../data/import-jobs';
import type { ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse } from './schemas';
import { importIdParams, importJob, importQuery } from './resource-schemas';

/** Largest accepted upload (the CLI has no limit: it reads a local file). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 413: errorResponse, 415: errorResponse };

/** "email=email,Mobile=phone" -> { email: 'email', Mobile: 'phone' } */
function parseMap(text: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const i = pair.lastIndexOf('=');
    if (i <= 0) throw new ContactError('E_MAP', `map expects column=field pairs, got "${pair}"`, '/query/map');
    map[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  const bad = checkMapping(map);
  if (bad) throw new ContactError('E_MAP', bad.replace(/^--map /, ''), '/query/map');
  return map;
}

export const importsRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  useApiValidation(app);
  const contacts = opts.contacts ?? createContacts({ secret: opts.config.secret, phoneKey: opts.config.phoneKey });
  const tags = ['imports'];
  // Jobs whose server stopped are resumed (or failed, when their file is not here) by a process serving the API.
  const jobs = opts.importJobs ?? {};
  let recovery: { stop(): Promise<void> } | null = null;
  app.addHook('onReady', async () => {
    recovery = startImportRecovery(contacts, {
      ...jobs,
      onRecovered: (r) => app.log.info({ resumed: r.resumed, failed: r.failed }, 'import jobs of a stopped server taken over'),
      onError: (err) => app.log.warn({ err: (err as Error).message }, 'import job recovery check failed; retrying'),
    });
  });
  app.addHook('onClose', async () => recovery?.stop());
  // The upload is streamed to a spool file, never held in memory.
  app.addContentTypeParser('text/csv', { bodyLimit: MAX_IMPORT_BYTES }, (_req, payload, done) => done(null, payload));

  app.post<{ Querystring: { dryRun: boolean; map?: string }; Body: Readable }>(
    '/v1/imports',
    {
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        tags,
        summary: 'Upload a CSV (header row; deduplicated by email) and start importing it; poll the job for progress',
        consumes: ['text/csv'],
        querystring: importQuery,
        body: { type: 'string', format: 'binary', description: 'The CSV file' },
        response: { 202: importJob, ...errors },
      },
    },
    async (req, reply) => {
      if (!req.body || typeof (req.body as Readable).pipe !== 'function') {
        throw new ContactError('E_CONTENT_TYPE', 'send the CSV file as the body with Content-Type: text/csv', '/headers/content-type', 415);
      }
      const map = parseMap(req.query.map);
      const job = await startImportJob(req.body, contacts, { ...jobs, map, dryRun: req.query.dryRun });
      void job.done.catch((err: unknown) => req.log.warn({ jobId: job.id, err: (err as Error).message }, 'import job failed'));
      return reply.code(202).send(await importProgress(job.id));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/imports/:id',
    { schema: { tags, summary: 'Progress of an import (rows done, rate, ETA) and, when done, its report', params: importIdParams, response: { 200: importJob, ...errors } } },
    async (req) => {
      const p = await importProgress(req.params.id);
      if (!p) throw new ContactError('E_NOT_FOUND', 'no import with this id', '/params/id', 404);
      return p;
    },
  );
};
