import pino, { type Logger } from 'pino';

/** Structured logs; secrets and tokens are redacted wherever they would appear. */
// `||`: a blank BOBSYNC_LOG_LEVEL, as compose leaves it, means the default, as in runtime.ts.
export function createLogger(name: string, level = process.env.BOBSYNC_LOG_LEVEL || 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        '*.token',
        '*.secret',
        '*.password',
        '*.authorization',
        '*.clientSecret',
        'headers.authorization',
        'headers["bob-signature"]',
      ],
      censor: '[redacted]',
    },
  });
}
