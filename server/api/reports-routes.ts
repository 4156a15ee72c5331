/**
 * Reports over HTTP: `GET /v1/reports/journeys/{id}?since=7d&version=2`, the funnel per version and step,
 * daily figures and experiments of one journey (engine/journey-report.ts; the same code as
 * `sojourn report`). Read-only; it reads daily counters by `_id`, never the ledger.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ContactError } from '../../data/contacts';
import { journeyReport, parseSince } from '../../engine/journey-report';
import type { ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse } from './schemas';
import { journeyReportResponse, reportParams, reportQuery } from './report-schemas';

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 503: errorResponse };

export const reportsRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  useApiValidation(app);
  app.get<{ Params: { id: string }; Querystring: { since?: string; version?: number } }>(
    '/v1/reports/journeys/:id',
    {
      schema: {
        tags: ['reports'],
        summary: 'Funnel per version and step, daily figures and experiments (variants, conversions, lift with its interval) of a journey',
        params: reportParams, querystring: reportQuery, response: { 200: journeyReportResponse, ...errors },
      },
    },
    async (req) => {
      const sinceDays = req.query.since === undefined ? 30 : parseSince(req.query.since);
      if (sinceDays === null) throw new ContactError('E_VALIDATION', 'since must be 1d to 400d', '/querystring/since', 400);
      const r = await journeyReport(req.params.id, { sinceDays, version: req.query.version, now: opts.now?.() });
      if (!r.found) throw new ContactError('E_NOT_FOUND', `no journey "${req.params.id}" is deployed`, '/params/id', 404);
      return r.report;
    },
  );
};
