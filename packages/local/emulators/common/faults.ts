import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { z } from 'zod';

/**
 * Injected failures. A rule matches by method and path pattern and fires `times` times
 * (or forever), answering with the given status and body, or delaying the real answer.
 */
export const faultRuleSchema = z.object({
  method: z.string().optional(),
  /** A regular expression tested against the request path. */
  path: z.string().optional(),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  /** How many matching requests the rule affects; omitted = until cleared. */
  times: z.number().int().positive().optional(),
  /** Drop the connection without answering. */
  dropConnection: z.boolean().optional(),
});
export type FaultRule = z.infer<typeof faultRuleSchema>;

interface ActiveRule extends FaultRule {
  id: number;
  fired: number;
  pathRegex?: RegExp;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  add(rule: FaultRule): number {
    const parsed = faultRuleSchema.parse(rule);
    const id = this.nextId++;
    this.rules.push({ ...parsed, id, fired: 0, pathRegex: parsed.path ? new RegExp(parsed.path) : undefined });
    return id;
  }

  clear(): void {
    this.rules = [];
  }

  list(): (FaultRule & { id: number; fired: number })[] {
    return this.rules.map(({ pathRegex: _regex, ...rule }) => rule);
  }

  private match(req: Request): ActiveRule | undefined {
    return this.rules.find(
      (r) =>
        (!r.method || r.method.toUpperCase() === req.method) &&
        (!r.pathRegex || r.pathRegex.test(req.path)) &&
        (r.times === undefined || r.fired < r.times),
    );
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/__admin')) return next();
      const rule = this.match(req);
      if (!rule) return next();
      rule.fired += 1;
      const act = () => {
        if (rule.dropConnection) {
          req.socket.destroy();
          return;
        }
        if (rule.status === undefined) return next();
        for (const [name, value] of Object.entries(rule.headers ?? {})) res.setHeader(name, value);
        if (rule.body === undefined) res.status(rule.status).end();
        else if (typeof rule.body === 'string') res.status(rule.status).type('text/plain').send(rule.body);
        else res.status(rule.status).json(rule.body);
      };
      if (rule.delayMs) setTimeout(act, rule.delayMs);
      else act();
    };
  }
}
