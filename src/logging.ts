import pino, { type Logger } from 'pino';

/** Structured logs; secrets and tokens are redacted wherever they would appear. */
export function createLogger(name: string, level = process.env.BOBSYNC_LOG_LEVEL ?? 'info'): Logger {
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
