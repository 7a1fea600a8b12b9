/**
 * What a real Temporal cluster puts in front of its frontend, on loopback, for tests: a throwaway
 * PKI made with the openssl CLI, a TLS terminator (optionally demanding a client certificate, as
 * mTLS clusters do) and a gRPC proxy that accepts only `authorization: Bearer <key>` (as Temporal
 * Cloud does with API keys). Both forward to the plain dev server.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the servers do not trust. */
  strangerCert: string;
  strangerKey: string;
}

const EXTENSIONS = `
[server]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:temporal.test
[client]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
`;

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.error)
    throw new Error(`The TLS tests need the openssl command to make throwaway certificates: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost/temporal.test, a client certificate, and a stranger's. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'bobsync-pki-'));
  writeFileSync(join(dir, 'ext.cnf'), EXTENSIONS);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = (name: string) =>
    openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
      ].concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
      dir,
    );
  const issue = (name: string, issuer: string, profile: 'server' | 'client') => {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${issuer}.pem`,
        '-CAkey',
        `${issuer}.key`,
        '-CAcreateserial',
      ].concat(['-days', '2', '-extfile', 'ext.cnf', '-extensions', profile, '-out', `${name}.pem`]),
      dir,
    );
  };
  ca('test-ca');
  ca('stranger-ca');
  issue('temporal-server', 'test-ca', 'server');
  issue('bobsync-client', 'test-ca', 'client');
  issue('stranger-client', 'stranger-ca', 'client');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at('test-ca.pem'),
    serverCert: at('temporal-server.pem'),
    serverKey: at('temporal-server.key'),
    clientCert: at('bobsync-client.pem'),
    clientKey: at('bobsync-client.key'),
    strangerCert: at('stranger-client.pem'),
    strangerKey: at('stranger-client.key'),
  };
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

export interface RunningProxy {
  address: string;
  close(): Promise<void>;
}

export interface TlsTerminator extends RunningProxy {
  /** Common names of the client certificates of accepted connections. */
  clients: string[];
}

/** TLS (ALPN h2) on a free port, piping the decrypted bytes to the plain dev server. */
export async function startTlsTerminator(options: {
  upstream: string;
  pki: TestPki;
  requireClientCert: boolean;
}): Promise<TlsTerminator> {
  const { pki } = options;
  const clients: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    {
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCert),
      ca: readFileSync(pki.caCert),
      ALPNProtocols: ['h2'],
      requestCert: options.requireClientCert,
      rejectUnauthorized: options.requireClientCert,
    },
    (socket: TLSSocket) => {
      const cn = socket.getPeerCertificate()?.subject?.CN;
      if (cn) clients.push(String(cn));
      const upstream = netConnect(hostPort(options.upstream));
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  // Handshake failures (a missing or foreign client certificate) are what some tests are about.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ApiKeyProxy extends RunningProxy {
  /** Calls answered UNAUTHENTICATED, and calls forwarded. */
  rejected: number;
  forwarded: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'authorization']);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') && name !== ':method' && name !== ':path') continue;
    if (HOP_BY_HOP.has(name) || value === undefined) continue;
    out[name] = value;
  }
  return out;
}

/**
 * An HTTP/2 gRPC proxy over TLS that lets through only calls with `authorization: Bearer <apiKey>`;
 * any other call is answered with gRPC status 16 UNAUTHENTICATED, as Temporal Cloud answers a wrong key.
 */
export async function startApiKeyProxy(options: {
  upstream: string;
  pki: TestPki;
  apiKey: string;
}): Promise<ApiKeyProxy> {
  let upstream: ClientHttp2Session | undefined;
  const session = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${options.upstream}`);
      upstream.on('error', () => undefined);
    }
    return upstream;
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  const proxy: ApiKeyProxy = { address: '', rejected: 0, forwarded: 0, close: async () => undefined };
  const server = http2.createSecureServer({
    key: readFileSync(options.pki.serverKey),
    cert: readFileSync(options.pki.serverCert),
    ALPNProtocols: ['h2'],
  });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers.authorization !== `Bearer ${options.apiKey}`) {
      proxy.rejected++;
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': encodeURIComponent('invalid API key'),
        },
        { endStream: true },
      );
      return;
    }
    proxy.forwarded++;
    const call = session().request(forwardable(headers));
    call.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: OutgoingHttpHeaders = {};
    call.on('response', (responseHeaders, flags) => {
      const endsHere = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      // A trailers-only answer (an error) ends with its headers; anything else carries trailers after the body.
      if (endsHere) stream.respond(responseHeaders, { endStream: true });
      else stream.respond(responseHeaders, { waitForTrailers: true });
    });
    call.on('trailers', (t) => {
      trailers = { ...t };
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.pipe(stream);
    stream.pipe(call);
    // A long poll the client gives up on (worker shutdown) is given up upstream too.
    stream.on('close', () => {
      if (!call.closed) call.close(http2.constants.NGHTTP2_CANCEL);
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
