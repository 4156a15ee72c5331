/**
 * Owners and their tasks. Owners are the people (sales, service) contacts belong to (`owner` on the
 * contact); a journey's `task` step creates tasks for them (activities/task-step.ts). Here they are
 * created (PUT, by your id), listed, read and closed; closing emits `task.completed` through the ingest,
 * with a deterministic event id, so a retried or concurrent close announces it once.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ContactError } from '../../data/contacts';
import { getOwner, listOwners, putOwner, type OwnerDoc } from '../../data/owners';
import { closeTask, getTask, listTasks, type TaskDoc, type TaskStatus } from '../../data/tasks';
import { createIngest } from '../../engine/ingest';
import { parseEmail } from '../../lib/email-address';
import type { ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse } from './schemas';
import { closeTaskInput, closeTaskResponse, ownerIdParams, ownerInput, ownerList, ownerOnly, ownerResponse, pageQuery, taskIdParams, taskList, taskResponse, tasksQuery } from './task-schemas';

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse };

const ownerJson = (o: OwnerDoc) => ({ id: o._id, name: o.name, email: o.email, crmId: o.crmId ?? null, createdAt: o.createdAt, updatedAt: o.updatedAt });

export const tasksRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts) => {
  useApiValidation(app);
  const ingest = opts.ingest ?? createIngest({ dispatcher: null }).ingest;
  const now = opts.now ?? (() => new Date());
  const taskJson = (t: TaskDoc) => ({
    id: t._id, contactId: t.contactId, ownerId: t.ownerId, journeyId: t.journeyId, stepId: t.stepId, title: t.title, why: t.why, due: t.due,
    status: t.status, createdAt: t.createdAt, closedAt: t.closedAt, resolution: t.resolution,
    notified: { email: t.notified?.email ?? null, webhook: t.notified?.webhook ?? null },
    contactUrl: `${opts.config.publicBaseUrl}/v1/contacts/${t.contactId}`,
  });

  app.put<{ Params: { id: string }; Body: { name: string; email: string; crmId?: string | null } }>(
    '/v1/owners/:id',
    { schema: { tags: ['owners'], summary: 'Create or replace an owner (a user who gets tasks): name, email, optional CRM id', params: ownerIdParams, body: ownerInput, response: { 200: ownerResponse, 201: ownerResponse, ...errors } } },
    async (req, reply) => {
      const e = parseEmail(req.body.email);
      if (!e.ok) throw new ContactError(e.code, e.message, '/email');
      const r = await putOwner(req.params.id, { name: req.body.name.trim() || req.params.id, email: e.email.address, crmId: req.body.crmId ?? null }, now());
      return reply.code(r.created ? 201 : 200).send({ owner: ownerJson(r.owner), created: r.created });
    },
  );

  app.get<{ Querystring: { limit: number; cursor?: string } }>('/v1/owners', { schema: { tags: ['owners'], summary: 'Owners, by id', querystring: pageQuery, response: { 200: ownerList, ...errors } } }, async (req) => {
    const page = await listOwners({ limit: req.query.limit, after: req.query.cursor });
    return { owners: page.map(ownerJson), next: page.length === req.query.limit ? page[page.length - 1]._id : null };
  });

  app.get<{ Params: { id: string } }>('/v1/owners/:id', { schema: { tags: ['owners'], summary: 'An owner', params: ownerIdParams, response: { 200: ownerOnly, ...errors } } }, async (req) => {
    const o = await getOwner(req.params.id);
    if (!o) throw new ContactError('E_NOT_FOUND', 'no owner with this id', '/params/id', 404);
    return { owner: ownerJson(o) };
  });

  app.get<{ Querystring: { limit: number; cursor?: string; status?: TaskStatus; owner?: string; contactId?: string } }>(
    '/v1/tasks',
    { schema: { tags: ['tasks'], summary: 'Tasks of journey task steps, by id; filter by status, owner, contact', querystring: tasksQuery, response: { 200: taskList, ...errors } } },
    async (req) => {
      const q = req.query;
      const page = await listTasks({ limit: q.limit, after: q.cursor, status: q.status, ownerId: q.owner, contactId: q.contactId?.toLowerCase() });
      return { tasks: page.map(taskJson), next: page.length === q.limit ? page[page.length - 1]._id : null };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/tasks/:id', { schema: { tags: ['tasks'], summary: 'A task', params: taskIdParams, response: { 200: taskResponse, ...errors } } }, async (req) => {
    const t = await getTask(req.params.id);
    if (!t) throw new ContactError('E_NOT_FOUND', 'no task with this id', '/params/id', 404);
    return { task: taskJson(t) };
  });

  app.post<{ Params: { id: string }; Body: { resolution?: string } | undefined }>(
    '/v1/tasks/:id/close',
    { schema: { tags: ['tasks'], summary: 'Close a task (done); emits task.completed once, so journeys waiting for it go on', params: taskIdParams, body: closeTaskInput, response: { 200: closeTaskResponse, ...errors } } },
    async (req) => {
      const resolution = req.body?.resolution?.trim() || null;
      const r = await closeTask(req.params.id, resolution, now());
      if (!r) throw new ContactError('E_NOT_FOUND', 'no task with this id', '/params/id', 404);
      const t = r.task;
      // Deterministic id: the second close (or a retry after a lost answer) is the same event, stored once.
      const ev = await ingest({
        eventId: `task.completed:${t._id}`, contactId: t.contactId, name: 'task.completed', at: t.closedAt ?? now(),
        data: { taskId: t._id, journeyId: t.journeyId, stepId: t.stepId, ownerId: t.ownerId },
      });
      return { task: taskJson(t), closed: r.closed, eventId: ev.eventId, dispatched: ev.dispatched };
    },
  );
};
