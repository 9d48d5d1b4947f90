import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** LOG_FORMAT: one JSON object per line (production), or pino-pretty's human-readable lines (development). */
export type LogFormat = 'json' | 'pretty';

/**
 * Logs on stdout (pino). `level` comes from LOG_LEVEL, `format` from LOG_FORMAT. `pretty` runs pino-pretty in
 * pino's transport worker; pino-pretty is a devDependency, so where it is not installed (`npm ci --omit=dev`) this
 * throws at start, naming the fix, rather than logging in a format nobody asked for. `destination` (json only)
 * replaces stdout: the benchmark logs to /dev/null.
 */
export function createLogger(level: string, format: LogFormat = 'json', destination?: DestinationStream): Logger {
  const options = { name: 'course-distribution', level, base: { service: 'course_distribution' } };
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
  } catch (err) {
    throw new Error('LOG_FORMAT=pretty needs pino-pretty, a devDependency that is not installed here (npm ci --omit=dev); use LOG_FORMAT=json', {
      cause: err,
    });
  }
  return pino({ ...options, transport: { target: 'pino-pretty' } });
}

/**
 * A connection URL, or a comma-separated list of them (NATS_URL may name several servers), fit for a log line:
 * passwords masked. A bare `host:port` is read as a URL without a scheme. A part that is not a URL is reported as
 * such and never echoed, since it may hold a secret.
 */
export function redactUrls(urls: string): string {
  return urls
    .split(',')
    .map((part) => {
      const trimmed = part.trim();
      try {
        const parsed = new URL(trimmed.includes('://') ? trimmed : `nats://${trimmed}`);
        if (parsed.password) parsed.password = '***';
        return trimmed.includes('://') ? parsed.toString() : parsed.host;
      } catch {
        return '(not a URL)';
      }
    })
    .join(',');
}
