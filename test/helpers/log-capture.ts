/**
 * A pino logger that keeps its lines in memory, for tests that assert what the service logged.
 */
import { pino, type Logger } from 'pino';

export interface CapturedLog {
  log: Logger;
  /** Every line logged so far, parsed. */
  lines(): Record<string, any>[];
}

export function captureLog(level = 'debug'): CapturedLog {
  const raw: string[] = [];
  const log = pino({ level }, { write: (line: string) => void raw.push(line) });
  return { log, lines: () => raw.map((line) => JSON.parse(line) as Record<string, any>) };
}
