/**
 * docker-compose.yml and the Dockerfile cannot be run here (no container engine), so they are
 * checked instead: against the Compose Specification's JSON Schema, against dclint's
 * correctness rules, and against the code they start (commands, env var names, ports, paths).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { DCLinter } from 'dclint';
import { runtimeSettings } from '../../src/config/runtime';
import { loadConfigFile, secretReferences } from '../../src/config/loader';
import { buildProgram } from '../../src/cli/main';
import { ENV_CODEC_ACTIVE_KEY, ENV_CODEC_KEYS } from '../../src/codec/aes-gcm-codec';
import { ENV_CODEC_AUTH_TOKEN, ENV_CODEC_CORS_ORIGINS } from '../../src/codec/codec-server';

const root = join(__dirname, '..', '..');
/** Node flags the worker runs with in the image and in compose (why: docker-compose.yml). */
const WORKER_NODE_FLAGS = ['--heap-growing-percent=50'];
const composePath = join(root, 'docker-compose.yml');
const composeText = readFileSync(composePath, 'utf8');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8');

type Env = Record<string, string | undefined>;

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $$. */
function interpolate(text: string, env: Env): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (match === '$$') return '$';
      if (bare) return env[bare] ?? '';
      const value = env[name!];
      const missing = colon ? !value : value === undefined;
      if (!op) return value ?? '';
      if (op === '-') return missing ? arg! : value!;
      if (missing) throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return value!;
    },
  );
}

/** The compose model as docker compose sees it, with the given .env values. */
function loadCompose(env: Env): ComposeFile {
  return parse(interpolate(composeText, env), { merge: true }) as ComposeFile;
}

interface PortMapping {
  target: number;
  published?: string | number;
  host_ip?: string;
  protocol?: string;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: { path: string; required?: boolean }[];
  ports?: PortMapping[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  user?: string;
  restart?: string;
  cpu_shares?: number;
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const dotEnv: Env = { POSTGRES_PASSWORD: 'example-password' };
const compose = loadCompose(dotEnv);
const services = compose.services;
const bobsyncServices = Object.entries(services).filter(([, s]) => s.build);
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const env = (name: string): Record<string, string> => service(name).environment ?? {};
const targets = (name: string): number[] => (service(name).ports ?? []).map((p) => Number(p.target));
const published = (name: string, target: number): string =>
  String(service(name).ports!.find((p) => Number(p.target) === target)!.published);

function composeSchemaValidator() {
  // dclint ships the Compose Specification schema (draft-07) as a file; its package exports
  // do not expose it, so it is read from the package directory.
  const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  expect(schema.title).toBe('Compose Specification');
  // The file names draft-07 by an https URL without '#', which Ajv does not know as an alias.
  expect(String(schema.$schema)).toMatch(/draft-07/);
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  return ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
}

describe('docker-compose.yml against the Compose Specification', () => {
  const validate = composeSchemaValidator();

  it('is valid', () => {
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is also valid as written, before interpolation', () => {
    expect(validate(parse(composeText, { merge: true }))).toBe(true);
  });

  it('the schema really rejects mistakes', () => {
    const broken = loadCompose(dotEnv);
    (broken.services.temporal as Record<string, unknown>).depends_on = { postgresql: { condition: 'service_ready' } };
    (broken.services.mailpit as Record<string, unknown>).helthcheck = {};
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(
      expect.arrayContaining(['/services/temporal/depends_on/postgresql/condition', '/services/mailpit']),
    );
  });

  it('refuses to start without the PostgreSQL password, as docker compose would', () => {
    expect(() => loadCompose({})).toThrow(/POSTGRES_PASSWORD.*deploy\/compose.env.example/);
  });

  it('passes dclint correctness rules (pinned tags, no duplicate or unbound published ports)', () => {
    const off = 0;
    const linter = new DCLinter({
      debug: false,
      quiet: true,
      exclude: [],
      rules: {
        'service-image-require-explicit-tag': 2,
        'no-duplicate-exported-ports': 2,
        'no-unbound-port-interfaces': 2,
        'no-duplicate-container-names': 2,
        'no-version-field': 2,
        'require-project-name-field': 2,
        // Style preferences and rules that conflict with compose features used on purpose.
        'no-build-and-image': off,
        'no-quotes-in-volumes': off,
        'require-quotes-in-ports': off,
        'service-container-name-regex': off,
        'service-dependencies-alphabetical-order': off,
        'service-keys-order': off,
        'service-ports-alphabetical-order': off,
        'services-alphabetical-order': off,
        'top-level-properties-order': off,
      },
    });
    const [result] = linter.lintFiles([composePath], false);
    expect(result!.messages.map((m) => `${m.rule}: ${m.message}`)).toEqual([]);
  });
});

describe('docker-compose.yml services', () => {
  it('runs the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual([
      'bobsync-api',
      'bobsync-temporal-setup',
      'bobsync-worker',
      'mailpit',
      'minio',
      'minio-create-bucket',
      'postgresql',
      'prometheus',
      'temporal',
      'temporal-ui',
    ]);
    expect(compose.name).toBe('bobsync');
  });

  it('pins every image to an explicit tag, never latest', () => {
    const images = [
      ...Object.values(services).map((s) => s.image!),
      ...[...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!),
    ];
    expect(images.length).toBeGreaterThanOrEqual(7);
    for (const image of images) {
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      expect({ image, tag }).toEqual({ image, tag: expect.stringMatching(/^(?!latest$|stable$)[\w.-]+$/) });
    }
    expect(service('postgresql').image).toMatch(/^postgres:16(\b|$)/);
    expect(service('temporal').image).toMatch(/^temporalio\/(auto-setup|server):\d+\.\d+\.\d+$/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(service('mailpit').image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/);
  });

  it('publishes ports on loopback only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? [])
        expect({ name, target: p.target, host_ip: p.host_ip }).toEqual({
          name,
          target: p.target,
          host_ip: '127.0.0.1',
        });
    }
    expect(targets('temporal')).toEqual([7233]);
    expect(targets('temporal-ui')).toEqual([8080]);
    expect(published('temporal-ui', 8080)).toBe('8080');
    expect(targets('mailpit').sort()).toEqual([1025, 8025]);
    expect(targets('postgresql')).toEqual([]);
  });

  it("waits on health (or a one-shot job's success), and every awaited service has a healthcheck", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dependency]).toBeDefined();
        // A one-shot job (never restarted) is awaited until it has exited with 0.
        if (services[dependency]!.restart === 'no') {
          expect({ name, dependency, condition }).toEqual({
            name,
            dependency,
            condition: 'service_completed_successfully',
          });
          continue;
        }
        expect({ name, dependency, condition }).toEqual({ name, dependency, condition: 'service_healthy' });
        expect(services[dependency]!.healthcheck?.test.length).toBeGreaterThan(0);
      }
    }
    expect(Object.keys(service('temporal').depends_on!)).toEqual(['postgresql']);
    expect(Object.keys(service('bobsync-worker').depends_on!).sort()).toEqual([
      'bobsync-temporal-setup',
      'mailpit',
      'temporal',
    ]);
    expect(Object.keys(service('bobsync-temporal-setup').depends_on!)).toEqual(['temporal']);
    expect(Object.keys(service('bobsync-api').depends_on!)).toEqual(['temporal']);
    expect(service('bobsync-api').healthcheck).toBeDefined();
  });

  it('runs Temporal on PostgreSQL with the dynamic config from deploy/', () => {
    const t = env('temporal');
    expect(t.DB).toBe('postgres12');
    expect(t.POSTGRES_SEEDS).toBe('postgresql');
    expect(t.POSTGRES_USER).toBe(env('postgresql').POSTGRES_USER);
    expect(t.POSTGRES_PWD).toBe(dotEnv.POSTGRES_PASSWORD);
    expect(env('postgresql').POSTGRES_PASSWORD).toBe(dotEnv.POSTGRES_PASSWORD);
    const mount = service('temporal').volumes!.find((v) => v.type === 'bind')!;
    expect(existsSync(join(root, mount.source))).toBe(true);
    expect(posix.join('/etc/temporal', t.DYNAMIC_CONFIG_FILE_PATH!)).toBe(mount.target);
    expect(parse(readFileSync(join(root, mount.source), 'utf8'))).toHaveProperty(['limit.maxIDLength']);
  });

  it('keeps secrets out of the file: only ${VAR} references and an env_file', () => {
    const raw = parse(composeText, { merge: true }) as ComposeFile;
    for (const [name, s] of Object.entries(raw.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|PWD|SECRET|TOKEN|(^|_)KEYS?$/.test(key)) {
          expect({ name, key, value }).toEqual({
            name,
            key,
            value: expect.stringMatching(/^\$\{[A-Z_]+(:?[?-][^}]*)?\}$/),
          });
        }
      }
    }
    for (const [, s] of bobsyncServices) {
      expect(s.env_file).toEqual([{ path: './deploy/bobsync.env', required: true }]);
    }
    // The real env file is never versioned or baked into the image.
    expect(readFileSync(join(root, 'deploy', '.gitignore'), 'utf8')).toMatch(/^bobsync\.env$/m);
    expect(dockerignore).toMatch(/^deploy$/m);
    expect(dockerignore).toMatch(/^\.env$/m);
  });
});

describe('docker-compose.yml matches what the code reads', () => {
  const workerEnv = env('bobsync-worker');
  const apiEnv = env('bobsync-api');
  const srcText = sourceFiles(join(root, 'src'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const envExample = readFileSync(join(root, 'deploy', 'bobsync.env.example'), 'utf8');
  const exampleNames = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);

  it('sets the variables the config module reads', () => {
    for (const e of [workerEnv, apiEnv]) {
      for (const name of ['TEMPORAL_ADDRESS', 'BOBSYNC_CONFIG', 'BOBSYNC_SMTP_URL']) expect(e[name]).toBeDefined();
    }
    expect(apiEnv.BOBSYNC_API_PORT).toBeDefined();
    for (const name of ['TEMPORAL_ADDRESS', 'BOBSYNC_CONFIG', 'BOBSYNC_SMTP_URL', 'BOBSYNC_API_PORT', ENV_CODEC_KEYS]) {
      expect(srcText).toContain(name);
    }
  });

  it('sets no variable that the code does not read', () => {
    for (const e of [workerEnv, apiEnv]) {
      for (const name of Object.keys(e))
        expect({ name, readBySrc: srcText.includes(name) }).toEqual({ name, readBySrc: true });
    }
  });

  it('gives values the runtime settings accept', () => {
    expect(() => runtimeSettings(workerEnv)).not.toThrow();
    const api = runtimeSettings(apiEnv);
    // The API must listen beyond loopback inside its container, on the published port.
    expect(api.BOBSYNC_API_HOST).toBe('0.0.0.0');
    expect(api.BOBSYNC_CODEC_HOST).toBe('0.0.0.0');
    expect(targets('bobsync-api')).toEqual([api.BOBSYNC_API_PORT, api.BOBSYNC_CODEC_PORT]);
    // Decryption without a credential is opt-in, never the compose default.
    expect(api.BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED).toBe(false);
    expect(service('bobsync-api').healthcheck!.test.join(' ')).toContain(
      `http://127.0.0.1:${api.BOBSYNC_API_PORT}/readyz`,
    );
    expect(srcText).toContain("'/readyz'");
  });

  it('points bobsync at the services that exist, on the ports they listen on', () => {
    for (const e of [workerEnv, apiEnv]) {
      const [host, port] = e.TEMPORAL_ADDRESS!.split(':');
      expect(services[host!]).toBeDefined();
      expect(targets(host!)).toContain(Number(port));
      const smtp = new URL(e.BOBSYNC_SMTP_URL!);
      expect(smtp.protocol).toBe('smtp:');
      expect(services[smtp.hostname]).toBeDefined();
      expect(targets(smtp.hostname)).toContain(Number(smtp.port));
      expect(e.TEMPORAL_NAMESPACE).toBe(env('temporal').DEFAULT_NAMESPACE);
      expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe(e.TEMPORAL_ADDRESS);
    }
  });

  it('mounts the config file and the data volume where the settings point', () => {
    for (const [name, s] of bobsyncServices) {
      const settings = runtimeSettings(s.environment);
      const config = s.volumes!.find((v) => v.target === settings.BOBSYNC_CONFIG);
      expect({ name, config: config && { type: config.type, read_only: config.read_only } }).toEqual({
        name,
        config: { type: 'bind', read_only: true },
      });
      const data = s.volumes!.find((v) => v.target === settings.BOBSYNC_DATA_DIR);
      expect(data?.type).toBe('volume');
      expect(compose.volumes).toHaveProperty([data!.source]);
    }
  });

  it('wires the Temporal UI to the codec endpoint, and the endpoint to the UI origin', () => {
    const endpoint = new URL(env('temporal-ui').TEMPORAL_CODEC_ENDPOINT!);
    expect(endpoint.pathname).toBe('/codec');
    expect(srcText).toContain("'/codec'"); // where the codec listener mounts its router
    const codecPort = runtimeSettings(apiEnv).BOBSYNC_CODEC_PORT;
    expect(codecPort).not.toBe(runtimeSettings(apiEnv).BOBSYNC_API_PORT);
    expect(endpoint.port).toBe(published('bobsync-api', codecPort));
    // The codec port is never published beyond loopback, whatever BOBSYNC_API_BIND says.
    const exposed = loadCompose({ ...dotEnv, BOBSYNC_API_BIND: '0.0.0.0' }).services['bobsync-api']!.ports!;
    expect(exposed.find((p) => Number(p.target) === codecPort)!.host_ip).toBe('127.0.0.1');
    expect(endpoint.hostname).toBe('localhost');
    const origins = apiEnv[ENV_CODEC_CORS_ORIGINS]!.split(',');
    expect(origins).toContain(`http://localhost:${published('temporal-ui', 8080)}`);
  });

  it('documents every secret the worker and API need in deploy/bobsync.env.example', () => {
    const example = loadConfigFile(join(root, 'bobsync.example.yaml'));
    const needed = new Set([
      ENV_CODEC_KEYS,
      ENV_CODEC_ACTIVE_KEY,
      ENV_CODEC_AUTH_TOKEN,
      ...secretReferences(example).map((r) => r.ref.env),
    ]);
    for (const name of needed) expect(exampleNames).toContain(name);
    // Every value is blank in the example.
    expect(envExample).not.toMatch(/^[A-Z_]+=\S/m);
  });

  it('gives the worker less CPU weight than the API and Temporal, which acknowledge webhooks', () => {
    // Docker's weight for a container that sets none.
    const weight = (name: string) => service(name).cpu_shares ?? 1024;
    expect(weight('bobsync-worker')).toBeLessThan(weight('bobsync-api'));
    expect(weight('bobsync-worker')).toBeLessThan(weight('temporal'));
    expect(weight('bobsync-worker')).toBeLessThan(weight('postgresql'));
    // Not so low that the syncs stall while webhooks keep the host busy.
    expect(weight('bobsync-worker')).toBeGreaterThanOrEqual(weight('bobsync-api') / 8);
  });

  it('starts the worker with Node flags this Node accepts', () => {
    const run = spawnSync(process.execPath, [...WORKER_NODE_FLAGS, '-e', ''], { encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('runs CLI commands that exist', () => {
    const commands = buildProgram().commands.map((c) => c.name());
    expect(service('bobsync-worker').command).toEqual(['node', ...WORKER_NODE_FLAGS, 'bin/bobsync.js', 'worker']);
    expect(service('bobsync-api').command).toEqual(['node', 'bin/bobsync.js', 'api']);
    // The search attributes are registered before the worker's workflows set them, once.
    expect(service('bobsync-temporal-setup').command).toEqual(['node', 'bin/bobsync.js', 'temporal', 'setup']);
    expect(service('bobsync-temporal-setup').restart).toBe('no');
    const temporal = buildProgram().commands.find((c) => c.name() === 'temporal')!;
    expect(temporal.commands.map((c) => c.name())).toContain('setup');
    for (const [, s] of bobsyncServices) {
      const script = s.command!.indexOf('bin/bobsync.js');
      expect(s.command![0]).toBe('node');
      expect(existsSync(join(root, s.command![script]!))).toBe(true);
      expect(commands).toContain(s.command![script + 1]);
    }
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n');
  const of = (op: string) => instructions.filter((l) => l.startsWith(`${op} `));

  /** The instructions of the final (run) stage: what the image is. */
  const runStage = instructions.slice(instructions.lastIndexOf(of('FROM').at(-1)!));

  it('builds on Node 20 slim, matching package.json engines', () => {
    const from = of('FROM').at(-1);
    expect(of('FROM')[0]).toMatch(/^FROM node:20\.\d+(\.\d+)?-(bookworm-)?slim AS build$/);
    expect(from).toBe(of('FROM')[0]!.replace(/ AS build$/, ''));
    expect(from).toMatch(/^FROM node:20\.\d+(\.\d+)?-(bookworm-)?slim$/);
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    const [, minor] = /20\.(\d+)/.exec(from!)!;
    const [, engineMinor] = /20\.(\d+)/.exec(engines)!;
    expect(Number(minor)).toBeGreaterThanOrEqual(Number(engineMinor));
  });

  it('runs compiled code with production dependencies only: no sources, no emulators', () => {
    const copyPackage = runStage.findIndex((l) => /^COPY package\.json package-lock\.json/.test(l));
    const install = runStage.findIndex((l) => /^RUN npm ci\b/.test(l));
    const copyDist = runStage.indexOf('COPY --from=build /app/dist ./dist');
    expect(copyPackage).toBeGreaterThan(-1);
    expect(install).toBeGreaterThan(copyPackage);
    expect(copyDist).toBeGreaterThan(install);
    expect(runStage[install]).toContain('--omit=dev');
    expect(runStage).toContain('COPY bin ./bin');
    expect(runStage.filter((l) => /^COPY (src|test|bench|scripts)\b/.test(l))).toEqual([]);
    // The build stage compiles src with npm run build; the emulators and the local stack live in
    // the workspace package packages/local, which no stage copies.
    expect(instructions.some((l) => l.startsWith('RUN npm run build'))).toBe(true);
    expect(of('COPY').filter((l) => /\bpackages\b/.test(l))).toEqual([]);
    expect(existsSync(join(root, 'src', 'emulators'))).toBe(false);
    expect(existsSync(join(root, 'packages', 'local', 'emulators'))).toBe(true);
  });

  it('needs no devDependency at run time (the image omits them)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    // bin/bobsync.js loads tsx only in a checkout, where src/ exists; the image has dist/ instead.
    expect(pkg.devDependencies).toHaveProperty('tsx');
    expect(readFileSync(join(root, 'bin', 'bobsync.js'), 'utf8')).toMatch(
      /if \(existsSync\(source\)\) \{\s+require\('tsx\/cjs'\)/,
    );
    const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'bin'))];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const imported = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"./][^'"]*)['"]/g)].map((m) =>
        packageName(m[1]!),
      );
      for (const name of imported) {
        if (name.startsWith('node:') || (name === 'tsx' && relative(root, file) === join('bin', 'bobsync.js')))
          continue;
        expect({ file: relative(root, file), name, dev: name in pkg.devDependencies }).toEqual({
          file: relative(root, file),
          name,
          dev: false,
        });
      }
    }
  });

  it('runs as the unprivileged node user the bobsync CLI', () => {
    expect(of('USER')).toEqual(['USER node']);
    const userLine = instructions.indexOf('USER node');
    const cmd = of('CMD').at(-1)!;
    expect(instructions.indexOf(cmd)).toBeGreaterThan(userLine);
    const argv = JSON.parse(cmd.slice('CMD '.length)) as string[];
    // The image's default command is the worker exactly as the compose file starts it.
    expect(argv).toEqual(['node', ...WORKER_NODE_FLAGS, 'bin/bobsync.js', 'worker']);
    expect(existsSync(join(root, 'bin/bobsync.js'))).toBe(true);
    expect(buildProgram().commands.map((c) => c.name())).toContain('worker');
    expect(of('ENTRYPOINT')).toEqual([]);
  });

  it('sets defaults consistent with the compose file and the runtime settings', () => {
    const defaults = Object.fromEntries(
      of('ENV').flatMap((l) => [...l.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
    );
    const settings = runtimeSettings(defaults);
    expect(settings.BOBSYNC_CONFIG).toBe(env('bobsync-worker').BOBSYNC_CONFIG);
    expect(settings.BOBSYNC_DATA_DIR).toBe(env('bobsync-worker').BOBSYNC_DATA_DIR);
    expect(settings.BOBSYNC_API_HOST).toBe('0.0.0.0');
    expect(of('EXPOSE')).toEqual([`EXPOSE ${settings.BOBSYNC_API_PORT} ${settings.BOBSYNC_CODEC_PORT}`]);
    expect(dockerfile).toMatch(/chown node:node \/data/);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = dockerignore
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '.git', '.data', '.env', 'test']));
    // …but not what the image copies.
    for (const needed of ['src', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json'])
      expect(ignored).not.toContain(needed);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|cjs|mjs)$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
