/**
 * deploy/prometheus.yml, deploy/alerts.yml and deploy/grafana-dashboard.json cannot be loaded
 * into a Prometheus or a Grafana here, so they are checked against what they depend on: the
 * compose services and ports they scrape, and the bobsync series the code defines. (The SDK's
 * temporal_* names are checked against a real scrape in test/e2e/metrics.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Histogram } from 'prom-client';
import { parse } from 'yaml';
import { runtimeSettings } from '../../src/config/runtime';
import { ApiMetrics, WorkerMetrics } from '../../src/metrics';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs: { targets: string[] }[];
}
const prometheus = parse(read('deploy/prometheus.yml')) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
const alerts = parse(read('deploy/alerts.yml')) as {
  groups: {
    name: string;
    rules: {
      alert: string;
      expr: string;
      for?: string;
      labels: { severity: string };
      annotations: Record<string, string>;
    }[];
  }[];
};
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { uid: string };
  targets?: { expr: string; refId: string }[];
}
const dashboard = JSON.parse(read('deploy/grafana-dashboard.json')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};
interface Service {
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: { type: string; source: string; target: string }[];
  depends_on?: Record<string, unknown>;
}
/** The compose file with its ${VAR:-default} references resolved as with an empty .env (required ones get a stand-in). */
const composeText = read('docker-compose.yml').replace(
  /\$\{[A-Z0-9_]+(?::?([-?])([^}]*))?\}/g,
  (_m, op?: string, arg?: string) => (op === '-' ? arg! : 'set-in-env'),
);
const services = (parse(composeText, { merge: true }) as { services: Record<string, Service> }).services;

/** Every series name the code defines, histograms with their _bucket, _sum and _count. */
const defined = new Set(
  [new ApiMetrics().registry, new WorkerMetrics().registry].flatMap((registry) =>
    registry
      .getMetricsAsArray()
      .flatMap((m) =>
        m instanceof Histogram ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
      ),
  ),
);

const expressions = [
  ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
];

function target(job: string): { host: string; port: number } {
  const config = prometheus.scrape_configs.find((c) => c.job_name === job);
  if (!config) throw new Error(`deploy/prometheus.yml has no job ${job}`);
  expect(config.metrics_path ?? '/metrics').toBe('/metrics');
  const [host, port] = config.static_configs[0]!.targets[0]!.split(':');
  return { host: host!, port: Number(port) };
}

describe('deploy/prometheus.yml and the compose file', () => {
  it("scrapes the worker's metrics listener where compose makes it listen", () => {
    const { host, port } = target('bobsync-worker');
    expect(host).toBe('bobsync-worker');
    const settings = runtimeSettings(services['bobsync-worker']!.environment);
    expect(settings.BOBSYNC_WORKER_METRICS_PORT).toBe(port);
    // Reachable from the Prometheus container, not only from the worker's own loopback.
    expect(settings.BOBSYNC_WORKER_METRICS_HOST).toBe('0.0.0.0');
  });

  it("scrapes the API's webhook listener, never the codec port", () => {
    const { host, port } = target('bobsync-api');
    expect(host).toBe('bobsync-api');
    const settings = runtimeSettings(services['bobsync-api']!.environment);
    expect(port).toBe(settings.BOBSYNC_API_PORT);
    expect(port).not.toBe(settings.BOBSYNC_CODEC_PORT);
  });

  it('runs Prometheus only with --profile metrics, with these files mounted where its flags point', () => {
    const service = services.prometheus!;
    expect(service.profiles).toEqual(['metrics']);
    const mounts = new Map((service.volumes ?? []).map((v) => [v.source, v.target]));
    const configFlag = service.command!.find((a) => a.startsWith('--config.file='))!;
    expect(mounts.get('./deploy/prometheus.yml')).toBe(configFlag.split('=')[1]);
    expect(prometheus.rule_files).toEqual([mounts.get('./deploy/alerts.yml')]);
    // bobsync never waits for Prometheus: without the profile it is not there.
    for (const name of ['bobsync-worker', 'bobsync-api'])
      expect(services[name]!.depends_on).not.toHaveProperty('prometheus');
  });
});

describe('deploy/alerts.yml and deploy/grafana-dashboard.json', () => {
  it('read only bobsync series the code defines', () => {
    const unknown = expressions.flatMap(({ where, expr }) =>
      [...expr.matchAll(/\bbobsync_[a-z0-9_]+/g)]
        .map((m) => m[0])
        .filter((name) => !defined.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The check above can fail: a misspelt name is not among them.
    expect(defined.has('bobsync_webhooks_total')).toBe(true);
    expect(defined.has('bobsync_webhook_total')).toBe(false);
  });

  it('have balanced brackets and quotes in every expression', () => {
    for (const { where, expr } of expressions) {
      let depth = 0;
      for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
        if ('({['.includes(ch)) depth += 1;
        if (')}]'.includes(ch)) depth -= 1;
        expect({ where, depth: depth < 0 ? 'closes too early' : 'ok' }).toEqual({ where, depth: 'ok' });
      }
      expect({ where, depth }).toEqual({ where, depth: 0 });
      expect({ where, quotes: (expr.match(/"/g) ?? []).length % 2 }).toEqual({ where, quotes: 0 });
    }
  });

  it('alert on the failures operators must hear about, each with a severity and words for the person paged', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
    }
    const reads = (metric: string) => rules.some((r) => r.expr.includes(metric));
    for (const metric of [
      'bobsync_webhooks_total{status=~"5.."}',
      'bobsync_lms_throttled_total',
      'bobsync_full_syncs_total{result!="completed"}',
      'bobsync_full_sync_last_success_timestamp_seconds',
      'bobsync_employee_failures_total{code!="syncFailed"}',
      'temporal_workflow_task_schedule_to_start_latency_seconds_bucket',
    ])
      expect({ metric, alerted: reads(metric) }).toEqual({ metric, alerted: true });
  });

  it('lays the dashboard out on the grid with unique ids, every query on the chosen data source', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'connection']);
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect({ panel: panel.title, overlaps: cells.has(`${i},${j}`) }).toEqual({
            panel: panel.title,
            overlaps: false,
          });
          cells.add(`${i},${j}`);
        }
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid).toBe('${datasource}');
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
    // Bobsync's series and the SDK's both have panels.
    const all = expressions.map((e) => e.expr).join('\n');
    expect(all).toContain('bobsync_webhook_ack_duration_seconds_bucket');
    expect(all).toContain('temporal_activity_schedule_to_start_latency_seconds_bucket');
  });
});
