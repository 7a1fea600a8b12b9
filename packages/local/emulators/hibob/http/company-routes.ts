/** Field metadata, named lists and company reports. */
import { Router, type Request } from 'express';
import { parseHumanReadable } from '../people-request';
import { withoutArchived } from '../lists';
import { renderReport, type ReportFormat } from '../reports';
import type { DateFormat, ServiceUserConfig } from '../types';
import { canSeeReport, inPopulation, serviceUserOf } from './access';
import type { HibobHttpContext } from './context';
import { sendError } from './errors';

/** Display date format for a report locale; the user's own format when no locale is given. */
function dateFormatFor(locale: unknown, user: ServiceUserConfig): DateFormat {
  if (typeof locale !== 'string' || !locale) return user.dateFormat ?? 'DD/MM/YYYY';
  if (/^en-US$/i.test(locale)) return 'MM/DD/YYYY';
  if (/^(de|pl|ru|fi|nb|cs)\b/i.test(locale)) return 'DD.MM.YYYY';
  return 'DD/MM/YYYY';
}

type ReportJob =
  | { ok: true; reportId: number; format: ReportFormat; file: ReturnType<typeof renderReport> }
  | { ok: false; status: number; key: string; error: string };

function buildReport(ctx: HibobHttpContext, req: Request, user: ServiceUserConfig): ReportJob {
  const reportId = Number(req.params.reportId);
  const def = ctx.reports.find((r) => r.id === reportId);
  if (user.reports === false)
    return { ok: false, status: 403, key: 'forbidden', error: 'The service user has no access to reports' };
  if (!def || !canSeeReport(user, reportId))
    return { ok: false, status: 404, key: 'not_found', error: `Report ${String(req.params.reportId)} not found` };
  const format = typeof req.query.format === 'string' ? req.query.format.toLowerCase() : undefined;
  if (format === 'xlsx')
    return { ok: false, status: 501, key: 'not_implemented', error: 'The emulator does not produce xlsx files' };
  if (format !== 'json' && format !== 'csv')
    return { ok: false, status: 400, key: 'invalid_request', error: 'format must be json, csv or xlsx' };
  const hr = parseHumanReadable(req.query.humanReadable);
  if (!hr.ok) return { ok: false, status: 400, key: 'invalid_request', error: hr.error };
  const people = ctx.store.visibleAll().filter((r) => inPopulation(user, r));
  const file = renderReport(
    def,
    people,
    ctx.catalog,
    ctx.directory.readEnv(),
    {
      format,
      humanReadable: format === 'json' ? hr.value : 'none',
      includeInfo: req.query.includeInfo === 'true',
      dateFormat: dateFormatFor(req.query.locale, user),
    },
    { csvBom: ctx.settings.csvBom, generatedAt: ctx.kit.clock.now().toISOString() },
  );
  return { ok: true, reportId, format, file };
}

export function companyRoutes(ctx: HibobHttpContext): Router {
  const router = Router();

  router.get('/company/people/fields', (_req, res) => {
    res.json(ctx.catalog.metadata());
  });

  router.get('/company/named-lists', (req, res) => {
    const includeArchived = req.query.includeArchived !== 'false';
    const out: Record<string, unknown> = {};
    for (const name of ctx.lists.names()) {
      const list = ctx.lists.list(name)!;
      out[name] = { name, items: includeArchived ? list.items : withoutArchived(list.items) };
    }
    res.json(out);
  });

  router.get('/company/named-lists/:listName', (req, res) => {
    const list = ctx.lists.list(req.params.listName);
    if (!list) return sendError(res, 404, 'not_found', `List ${req.params.listName} not found`);
    const includeArchived = req.query.includeArchived !== 'false';
    res.json({ name: list.name, items: includeArchived ? list.items : withoutArchived(list.items) });
  });

  router.get('/company/reports', (_req, res) => {
    const user = serviceUserOf(res);
    if (user.reports === false) return sendError(res, 403, 'forbidden', 'The service user has no access to reports');
    res.json({ views: ctx.reports.filter((r) => canSeeReport(user, r.id)).map((r) => ({ id: r.id, name: r.name })) });
  });

  router.get('/company/reports/download/:reportName', (req, res) => {
    const file = ctx.asyncReports.get(req.params.reportName);
    if (!file || file.ownerId !== serviceUserOf(res).id) return sendError(res, 404, 'not_found', 'No such report file');
    if (ctx.kit.clock.nowMs() < file.readyAtMs) return void res.status(204).end();
    res.status(200).type(file.file.contentType).send(file.file.body);
  });

  router.get('/company/reports/:reportId/download', (req, res) => {
    const job = buildReport(ctx, req, serviceUserOf(res));
    if (!job.ok) return sendError(res, job.status, job.key, job.error);
    res.status(200).type(job.file.contentType).send(job.file.body);
  });

  router.get('/company/reports/:reportId/download-async', (req, res) => {
    const user = serviceUserOf(res);
    const job = buildReport(ctx, req, user);
    if (!job.ok) return sendError(res, job.status, job.key, job.error);
    const name = ctx.asyncReports.add(
      user.id,
      job.reportId,
      job.format,
      ctx.kit.clock.nowMs() + ctx.settings.reportAsyncDelayMs,
      job.file,
    );
    res.location(
      `${req.protocol}://${req.get('host')}${req.baseUrl}/company/reports/download/${encodeURIComponent(name)}`,
    );
    res.status(202).end();
  });

  return router;
}
