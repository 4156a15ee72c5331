/**
 * Journeys over HTTP: the deployed journeys with their versions and the live one, pause and resume,
 * a contact's runs (every version and period) with their `status` answers, and running runs counted
 * by step. The same code as `sojourn journeys` and `sojourn status` (engine/journey-control.ts).
 *
 * Deploying is deliberately not here: a deploy compiles files from a working tree and is reviewed
 * like code (validate, scenario tests, a commit); an HTTP endpoint taking YAML would skip that review
 * and put a second source of truth beside the repository (docs/decisions.md).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ContactError } from '../../data/contacts';
import { contactRuns, journeySummaries, setJourneyPause, waitingByStep } from '../../engine/journey-control';
import type { ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse } from './schemas';
import { contactRunsResponse, journeyContactParams, journeyIdParams, journeyList, pauseResponse, waitingResponse } from './resource-schemas';

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 503: errorResponse };

export const journeysRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  useApiValidation(app);
  const tags = ['journeys'];
  const temporal = () => {
    if (!opts.temporal) throw new ContactError('E_TEMPORAL', 'this server has no Temporal connection', '', 503);
    return opts.temporal;
  };
  const unknown = (id: string) => new ContactError('E_NOT_FOUND', `no journey "${id}" is deployed`, '/params/id', 404);

  app.get('/v1/journeys', { schema: { tags, summary: 'Deployed journeys, their versions and the live one', response: { 200: journeyList, ...errors } } }, async () => ({
    journeys: await journeySummaries(),
  }));

  const pause = (paused: boolean) => async (req: { params: { id: string } }) => {
    const r = await setJourneyPause(opts.temporal ?? null, req.params.id, paused);
    if (!r.found) throw unknown(req.params.id);
    return { journeyId: req.params.id, paused: r.paused, schedule: r.schedule, ...(r.scheduleError ? { scheduleError: r.scheduleError } : {}) };
  };
  app.post<{ Params: { id: string } }>(
    '/v1/journeys/:id/pause',
    { schema: { tags, summary: 'Refuse new entries and pause the schedule (runs in flight continue)', params: journeyIdParams, response: { 200: pauseResponse, ...errors } } },
    pause(true),
  );
  app.post<{ Params: { id: string } }>(
    '/v1/journeys/:id/resume',
    { schema: { tags, summary: 'Accept new entries and resume the schedule', params: journeyIdParams, response: { 200: pauseResponse, ...errors } } },
    pause(false),
  );

  app.get<{ Params: { id: string; contactId: string } }>(
    '/v1/journeys/:id/contacts/:contactId',
    { schema: { tags, summary: "A contact's runs in a journey, every version and period, with the status query's answer", params: journeyContactParams, response: { 200: contactRunsResponse, ...errors } } },
    async (req) => ({ journeyId: req.params.id, contactId: req.params.contactId.toLowerCase(), runs: await contactRuns(temporal(), req.params.id, req.params.contactId.toLowerCase()) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/journeys/:id/steps',
    { schema: { tags, summary: 'Running runs of a journey counted by the step they are at', params: journeyIdParams, response: { 200: waitingResponse, ...errors } } },
    async (req) => waitingByStep(temporal(), req.params.id),
  );
};
