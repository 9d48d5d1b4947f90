/** The `duration_ms` of a log line: milliseconds since `begun` (a `process.hrtime.bigint()`), to the microsecond. */
export function millisecondsSince(begun: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - begun) / 1e3) / 1e3;
}
