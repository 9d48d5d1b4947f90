import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout (pino). `level` comes from LOG_LEVEL. */
export function createLogger(level: string): Logger {
  return pino({ name: 'course-distribution', level, base: { service: 'course_distribution' } });
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
