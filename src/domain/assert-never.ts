/**
 * The end of every `switch` over a tagged union: it only compiles when every member has a case, so adding a
 * command or event type breaks the build at each place that must handle it.
 *
 * @throws Error when reached at run time (a value from outside the types, e.g. an unchecked cast).
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
