/**
 * Defaults a distribution gets when its creator sends none: the call to action and search-engine metadata derived
 * from the title, description and audiences. Deterministic: the same input always gives the same output.
 */
import type { Cta, Seo } from '../../generated/types.js';
import { isGerman } from './language.js';

/** Search engines show about 60 characters of a title. */
export const META_TITLE_MAX_LENGTH = 60;
/** Search engines show about 160 characters of a description (the contract allows 500). */
export const META_DESCRIPTION_MAX_LENGTH = 160;
/** Enough keywords to describe a course; the contract allows 30. */
export const META_KEYWORDS_MAX_COUNT = 10;
/** Shorter title words carry too little meaning to be keywords. */
export const KEYWORD_MIN_LENGTH = 4;
/** The contract's maxLength of one keyword. */
const KEYWORD_MAX_LENGTH = 100;

const ELLIPSIS = '…';

/** What a cut text must not end in. */
const TRAILING_SEPARATORS = /[\s,;:\-–—|/&]+$/u;

/**
 * German and English words that say nothing about a course. Only words of KEYWORD_MIN_LENGTH or more can become
 * keywords at all; the short ones are listed so the list reads as what it is.
 */
const STOP_WORDS = new Set([
  // German
  'und',
  'oder',
  'der',
  'die',
  'das',
  'den',
  'dem',
  'des',
  'ein',
  'eine',
  'einer',
  'einem',
  'einen',
  'eines',
  'für',
  'mit',
  'zu',
  'zum',
  'zur',
  'von',
  'vom',
  'bei',
  'beim',
  'auf',
  'aus',
  'über',
  'unter',
  'durch',
  'ohne',
  'gegen',
  'sowie',
  'auch',
  'nicht',
  'noch',
  'sich',
  'sind',
  'wird',
  'werden',
  'wie',
  'was',
  'wer',
  'alle',
  'alles',
  'ihre',
  'ihren',
  'ihrer',
  'dein',
  'deine',
  'deinen',
  'deiner',
  'sein',
  'seine',
  'mehr',
  'dass',
  'wenn',
  'aber',
  'diese',
  'dieser',
  'dieses',
  'euer',
  'eure',
  'ihr',
  'wir',
  'uns',
  'unsere',
  'jetzt',
  'einfach',
  // English
  'the',
  'and',
  'for',
  'with',
  'from',
  'into',
  'about',
  'your',
  'yours',
  'this',
  'that',
  'these',
  'those',
  'what',
  'when',
  'where',
  'which',
  'while',
  'will',
  'have',
  'more',
  'than',
  'them',
  'they',
  'their',
  'over',
  'under',
  'without',
  'through',
  'just',
  'some',
  'also',
  'how',
  'why',
  'you',
  'are',
  'our',
]);

/**
 * The call to action of a new distribution: an enrol button in the page's language, without its own URL (the page
 * decides where it leads).
 */
export function defaultCta(language: string): Cta {
  return { label: isGerman(language) ? 'Jetzt einschreiben' : 'Enroll now', type: 'primary_button', url: null };
}

/** What defaultSeo derives the metadata from. */
export interface SeoSource {
  title: string;
  description: string;
  target_group: string[];
  language: string;
}

/**
 * Search-engine metadata derived from a distribution's content:
 * - meta_title: the title, cut to META_TITLE_MAX_LENGTH at a word boundary;
 * - meta_description: the description with whitespace collapsed, cut to META_DESCRIPTION_MAX_LENGTH at a word
 *   boundary, ending in '…' only when cut;
 * - meta_keywords: up to META_KEYWORDS_MAX_COUNT unique lower-case words of the title (KEYWORD_MIN_LENGTH or longer,
 *   no stop words), then the target groups as they are.
 *
 * A blank title or description leaves its field out rather than setting '', so publishing names it as missing.
 */
export function defaultSeo(input: SeoSource): Seo {
  const seo: Seo = {};
  const title = collapseWhitespace(input.title);
  if (title !== '') seo.meta_title = shorten(title, META_TITLE_MAX_LENGTH, '');
  const description = collapseWhitespace(input.description);
  if (description !== '') seo.meta_description = shorten(description, META_DESCRIPTION_MAX_LENGTH, ELLIPSIS);
  seo.meta_keywords = keywords(input);
  return seo;
}

function keywords(input: SeoSource): string[] {
  const words = lowerCase(input.title, input.language)
    // Letters and digits of any script; a hyphen inside a word keeps compounds such as 'e-commerce' whole.
    .split(/[^\p{L}\p{N}-]+/u)
    .map((word) => word.replace(/^-+|-+$/g, ''))
    .filter((word) => {
      const length = codePoints(word).length;
      return length >= KEYWORD_MIN_LENGTH && length <= KEYWORD_MAX_LENGTH && !STOP_WORDS.has(word);
    });
  const audiences = input.target_group.filter((group) => group !== '' && codePoints(group).length <= KEYWORD_MAX_LENGTH);
  return [...new Set([...words, ...audiences])].slice(0, META_KEYWORDS_MAX_COUNT);
}

/**
 * Cuts text to at most `max` characters (code points, as the schemas count), at the last space that fits; only a
 * first word longer than `max` is cut inside. When cut, trailing separators and stop words go (a title ending in
 * 'und' or 'Banken:' reads broken) and `marker` is appended within the limit.
 */
function shorten(text: string, max: number, marker: string): string {
  const chars = codePoints(text);
  if (chars.length <= max) return text;
  const room = max - codePoints(marker).length;
  const lastSpace = chars.lastIndexOf(' ', room);
  const cut = chars.slice(0, lastSpace > 0 ? lastSpace : room).join('');
  const kept = cut.split(' ');
  while (kept.length > 1 && isFiller(kept.at(-1) ?? '')) kept.pop();
  const tidy = kept.join(' ').replace(TRAILING_SEPARATORS, '');
  return (tidy === '' ? cut : tidy) + marker;
}

/** A word that says nothing at the end of a cut text: a stop word or bare punctuation. */
function isFiller(word: string): boolean {
  const bare = word.toLowerCase().replace(TRAILING_SEPARATORS, '');
  return bare === '' || STOP_WORDS.has(bare);
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

function codePoints(text: string): string[] {
  return Array.from(text);
}

/** Lower-cases with the language's rules (e.g. Turkish dotted I); an unusable tag falls back to the default. */
function lowerCase(text: string, language: string): string {
  try {
    return text.toLocaleLowerCase(language);
  } catch {
    return text.toLowerCase();
  }
}
