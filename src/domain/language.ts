/**
 * Language rules the domain needs: which tags are German (for the '&' word, the default CTA label and German
 * transliteration). Tags follow the contract's Language pattern, e.g. de, de-AT, deu.
 */

/** ISO 639-1 and 639-2 (terminology and bibliographic) codes of German. */
const GERMAN_CODES = new Set(['de', 'deu', 'ger']);

/**
 * The primary subtag of a language tag, lower-cased: 'de-AT' -> 'de'.
 */
export function primaryLanguage(language: string): string {
  return (language.split('-')[0] ?? '').toLowerCase();
}

/**
 * Whether a language tag names German (de, de-AT, de-CH, deu, ...). Compared on the primary subtag rather than
 * with startsWith('de'), so unrelated three-letter codes such as 'del' are not mistaken for German.
 */
export function isGerman(language: string | undefined): boolean {
  return language !== undefined && GERMAN_CODES.has(primaryLanguage(language));
}
