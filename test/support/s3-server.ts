/**
 * A real S3-compatible server for blob store tests: moto's server mode (PyPI), which speaks the
 * S3 REST API (SigV4, path-style buckets, NoSuchKey/NoSuchBucket errors) over HTTP. Installed once,
 * pinned, into a virtualenv in the per-user cache (test/support/python-tool.ts), and started per
 * test file on a free loopback port, in memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../src/dev/ports';
import { ensurePythonTool, type PythonToolInstall } from './python-tool';

export const MOTO_VERSION = '5.2.5';

/** moto with its S3 extra and the web server, and everything they pull in, pinned. */
const PINNED_REQUIREMENTS = [
  `moto[s3]==${MOTO_VERSION}`,
  'flask==3.1.3',
  'flask-cors==6.0.5',
  'blinker==1.9.0',
  'boto3==1.44.8',
  'botocore==1.44.8',
  'certifi==2026.10.19.post1',
  'cffi==2.1.1',
  'charset-normalizer==3.5.3',
  'click==8.5.1',
  'cryptography==50.0.2',
  'idna==3.20',
  'itsdangerous==2.2.0',
  'jinja2==3.1.6',
  'jmespath==1.1.0',
  'markupsafe==3.0.4',
  'py-partiql-parser==0.6.3',
  'pycparser==3.12',
  'python-dateutil==2.9.0.post0',
  'pyyaml==6.0.4',
  'requests==2.34.2',
  'responses==0.26.3',
  's3transfer==0.19.3',
  'six==1.17.0',
  'urllib3==2.8.0',
  'werkzeug==3.1.9',
  'xmltodict==1.0.4',
];

export function ensureS3Server(env: NodeJS.ProcessEnv = process.env): PythonToolInstall {
  return ensurePythonTool({ cacheName: `moto-server-${MOTO_VERSION}`, requirements: PINNED_REQUIREMENTS }, env);
}

/** moto accepts any keys; these only give requests a well-formed signature and are no real secret. */
const CREDENTIALS = { accessKeyId: 'bobsync-test', secretAccessKey: 'bobsync-test-secret' };
const REGION = 'us-east-1';

export interface RunningS3Server {
  endpoint: string;
  /** A client of the server, for what a test checks behind the store's back. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** The environment that makes bobsync keep its blobs in `bucket` of this server. */
  blobStoreEnv(bucket: string, prefix?: string): NodeJS.ProcessEnv;
  /** What the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export async function startS3Server(python: string): Promise<RunningS3Server> {
  const port = await freePort();
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: CREDENTIALS });

  const stop = async () => {
    client.destroy();
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`moto server exited while starting:\n${output}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      await res.text();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto server did not answer within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    blobStoreEnv: (bucket, prefix) => ({
      BOBSYNC_BLOB_STORE: 's3',
      BOBSYNC_S3_BUCKET: bucket,
      ...(prefix ? { BOBSYNC_S3_PREFIX: prefix } : {}),
      BOBSYNC_S3_ENDPOINT: endpoint,
      BOBSYNC_S3_REGION: REGION,
      BOBSYNC_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    }),
    output: () => output,
    stop,
  };
}

/** Reports how the server was found, or why tests that need it are skipped; fails instead when required. */
export function announceS3Server(install: PythonToolInstall, env: NodeJS.ProcessEnv = process.env): void {
  if ('unavailable' in install) {
    if (env.BOBSYNC_REQUIRE_S3_SERVER === '1')
      throw new Error(`moto server ${MOTO_VERSION} is required: ${install.unavailable}`);
    process.stderr.write(`Skipping the S3 blob store checks: ${install.unavailable}\n`);
  } else if (install.source === 'installed') {
    process.stderr.write(`Installed moto server ${MOTO_VERSION} in ${Math.round(install.installMs / 1000)} s\n`);
  }
}
