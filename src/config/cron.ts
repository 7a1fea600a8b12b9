/**
 * A first check of a full-sync cron expression, so a typo is named where it is written (the
 * config field, or `--cron`) rather than by the Temporal server at `bobsync schedule create`.
 * Temporal accepts 5 fields (minute hour day-of-month month day-of-week), optionally seconds
 * first and a year last, and the @-shorthands; the server still has the last word on ranges.
 */
const SHORTHAND = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
const INTERVAL = String.raw`\d+(ms|s|m|h|d)(\d+(ms|s|m|h))*`;
/** `@every 24h`, or with a phase, `@every 24h/2h`. */
const EVERY = new RegExp(`^@every\\s+${INTERVAL}(/${INTERVAL})?$`);
const FIELD = /^[0-9A-Za-z*?,/#-]+$/;
/** A time zone prefix (`CRON_TZ=Europe/London 0 2 * * *`) and a trailing `# comment` are Temporal's too. */
const TIME_ZONE_PREFIX = /^CRON_TZ=\S+\s+/;

/** Why `expression` is not a cron expression Temporal takes, or undefined when it looks like one. */
export function cronProblem(expression: string): string | undefined {
  const text = expression
    .replace(TIME_ZONE_PREFIX, '')
    .replace(/\s#.*$/, '')
    .trim();
  if (SHORTHAND.test(text) || EVERY.test(text)) return undefined;
  const fields = text.split(/\s+/).filter(Boolean);
  if (fields.length >= 5 && fields.length <= 7 && fields.every((f) => FIELD.test(f))) return undefined;
  return `"${expression}" is not a cron expression: write 5 fields, minute hour day-of-month month day-of-week in UTC (e.g. "0 2 * * *" for 02:00 every day), or a shorthand such as @daily`;
}
