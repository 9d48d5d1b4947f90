/**
 * Slugs: the URL names of distributions. A slug is lower-case ASCII letters and digits in groups joined by single
 * hyphens (the contract's Slug pattern) and at most SLUG_MAX_LENGTH characters. Whether a slug is free in a tenant
 * needs the database, so the application asks for candidates here and checks each one itself.
 */
import slugify from '@sindresorhus/slugify';
import { isGerman } from './language.js';

/** The contract's maxLength of a slug. */
export const SLUG_MAX_LENGTH = 120;

/** The slug of a title that has no letters or digits at all (only emoji or punctuation). */
export const FALLBACK_SLUG = 'distribution';

/** The contract's Slug pattern. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Makes a slug from a title: transliterated to ASCII (German: Ä -> ae, Ö -> oe, Ü -> ue, ß -> ss), lower-case,
 * '&' spelled out in the title's language ('und' for German, 'and' otherwise), at most SLUG_MAX_LENGTH characters
 * cut at a hyphen. A title without any letter or digit gives FALLBACK_SLUG.
 *
 * @param title - The distribution's title.
 * @param language - The title's language tag (e.g. de, de-AT, en); selects the transliteration and the '&' word.
 */
export function slugFromTitle(title: string, language?: string): string {
  const german = isGerman(language);
  const slug = slugify(title, {
    // The library's locale rules: German gets ae/oe/ue; other languages get their own (e.g. Swedish ä -> a).
    locale: german ? 'de' : language,
    customReplacements: [['&', german ? ' und ' : ' and ']],
    // 'iPhone' should read 'iphone', not 'i-phone'; titles are prose, not identifiers.
    decamelize: false,
  });
  // The library may keep characters outside the pattern in rare cases; the pattern is the contract, so enforce it.
  const clean = slug.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return clean === '' ? FALLBACK_SLUG : cutSlug(clean, SLUG_MAX_LENGTH);
}

/**
 * The slug to try on the given attempt: attempt 1 is the base itself, attempt n > 1 is `${base}-${n}`. The base is
 * shortened (at a hyphen where possible) so the candidate never exceeds SLUG_MAX_LENGTH.
 *
 * @param base - A valid slug, usually from slugFromTitle.
 * @param attempt - 1, 2, 3, ...
 * @throws RangeError when attempt is not a positive integer (a caller's bug, not a rule).
 */
export function slugCandidate(base: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  if (attempt === 1) return cutSlug(base, SLUG_MAX_LENGTH);
  const suffix = `-${attempt}`;
  return `${cutSlug(base, SLUG_MAX_LENGTH - suffix.length)}${suffix}`;
}

/**
 * Shortens a slug to at most `max` characters. It cuts at the last hyphen that fits so no word is split; only a
 * first word longer than `max` is cut inside.
 */
function cutSlug(slug: string, max: number): string {
  if (slug.length <= max) return slug;
  // Searching back from index max: a hyphen right after the last character that fits is a clean boundary too.
  const hyphen = slug.lastIndexOf('-', max);
  const cut = hyphen > 0 ? slug.slice(0, hyphen) : slug.slice(0, max);
  return cut.replace(/-+$/, '');
}
