import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout (pino). `level` comes from LOG_LEVEL. */
export function createLogger(level: string): Logger {
  return pino({ name: 'course-distribution', level, base: { service: 'course_distribution' } });
}
