/**
 * Content version labels v1, v2, ... (the contract's VersionLabel: 'v' and 1 to 6 digits, no leading zero).
 * Not the optimistic row version, which the persistence layer keeps.
 */

/** The highest number a label can carry: the contract allows six digits. */
export const MAX_VERSION_NUMBER = 999_999;

const LABEL = /^v([1-9][0-9]*)$/;

/**
 * The number of a label: 'v7' -> 7.
 *
 * @throws RangeError when the text is not a version label (stored state is always valid, so this is a bug).
 */
export function versionNumber(label: string): number {
  const match = LABEL.exec(label);
  if (!match?.[1]) throw new RangeError(`not a version label: ${JSON.stringify(label)}`);
  return Number(match[1]);
}

/**
 * The label after the given one: 'v7' -> 'v8'.
 *
 * @throws RangeError when the text is not a version label.
 */
export function nextVersionLabel(label: string): string {
  return `v${versionNumber(label) + 1}`;
}
