import t from 'tap';
import { FALLBACK_SLUG, SLUG_MAX_LENGTH, SLUG_PATTERN, slugCandidate, slugFromTitle } from '../../src/domain/slug.js';

const words = (count: number, word = 'lernen'): string => Array.from({ length: count }, (_, i) => `${word}${i}`).join(' ');

t.test('when a German title has umlauts, ß and &, then they are transliterated and & becomes und', async (t) => {
  t.equal(slugFromTitle('Ärger & Überstunden für Bäcker', 'de'), 'aerger-und-ueberstunden-fuer-baecker');
  t.equal(slugFromTitle('Straße', 'de'), 'strasse');
  t.equal(slugFromTitle('ÄÖÜ äöü ß', 'de'), 'aeoeue-aeoeue-ss');
  t.equal(slugFromTitle('Alternativen zu Banken & Sparkassen', 'de'), 'alternativen-zu-banken-und-sparkassen');
});

t.test('when the language is a regional or three-letter German tag, then & still becomes und', async (t) => {
  t.equal(slugFromTitle('Ärger & Co', 'de-AT'), 'aerger-und-co');
  t.equal(slugFromTitle('Ärger & Co', 'de-CH'), 'aerger-und-co');
  t.equal(slugFromTitle('Ärger & Co', 'deu'), 'aerger-und-co');
});

t.test('when the language is not German or not given, then & becomes and', async (t) => {
  t.equal(slugFromTitle('Banks & Savings', 'en'), 'banks-and-savings');
  t.equal(slugFromTitle('Banks & Savings'), 'banks-and-savings');
  t.equal(slugFromTitle('Banks & Savings', 'del'), 'banks-and-savings');
});

t.test('when a title has camel case, accents or punctuation, then the slug is plain lower-case words', async (t) => {
  t.equal(slugFromTitle('iPhone-Tipps für Senioren', 'de'), 'iphone-tipps-fuer-senioren');
  t.equal(slugFromTitle('  Déjà vu: 2025!  ', 'en'), 'deja-vu-2025');
  t.equal(slugFromTitle('--Hello__World--', 'en'), 'hello-world');
  t.equal(slugFromTitle('C++ & C# in 30 Tagen', 'de'), 'c-und-c-in-30-tagen');
});

t.test('when a title has no letter or digit, then the slug is the fallback', async (t) => {
  t.equal(slugFromTitle('🎉🚀✨', 'de'), FALLBACK_SLUG);
  t.equal(slugFromTitle('?!... ---', 'en'), FALLBACK_SLUG);
  t.equal(slugFromTitle('', 'en'), FALLBACK_SLUG);
  t.equal(FALLBACK_SLUG, 'distribution');
});

t.test('when titles are odd, then every slug matches the contract pattern and length', async (t) => {
  const titles = [
    'Ärger & Überstunden',
    '   ',
    '🎉 Party 🎉',
    'a--b__c',
    'Ünïcödé Ŧęxŧ',
    'Привет мир',
    '日本語',
    "Conway's Law",
    'x'.repeat(300),
    words(80),
    'ß'.repeat(100),
    '100% Rendite?!',
  ];
  for (const title of titles) {
    const slug = slugFromTitle(title, 'de');
    t.match(slug, SLUG_PATTERN, `${JSON.stringify(title)} -> ${slug}`);
    t.ok(slug.length <= SLUG_MAX_LENGTH, `${slug.length} <= ${SLUG_MAX_LENGTH}`);
  }
});

t.test('when a title is long, then the slug is cut at a hyphen to at most 120 characters', async (t) => {
  const slug = slugFromTitle(words(80), 'de');
  t.equal(SLUG_MAX_LENGTH, 120);
  t.ok(slug.length <= 120, `${slug.length} <= 120`);
  t.ok(slug.length > 110, 'it keeps as many words as fit');
  const uncut = words(80).replace(/ /g, '-');
  t.ok(uncut.startsWith(`${slug}-`), 'it ends on a whole word');
});

t.test('when a title is one word longer than 120 characters, then it is cut inside the word', async (t) => {
  t.equal(slugFromTitle('a'.repeat(200), 'en'), 'a'.repeat(120));
});

t.test('when the first attempt is asked, then the candidate is the base itself', async (t) => {
  t.equal(slugCandidate('alternativen-banken', 1), 'alternativen-banken');
});

t.test('when later attempts are asked, then the candidate gets the attempt as a suffix', async (t) => {
  t.equal(slugCandidate('alternativen-banken', 2), 'alternativen-banken-2');
  t.equal(slugCandidate('alternativen-banken', 3), 'alternativen-banken-3');
  t.equal(slugCandidate('alternativen-banken', 17), 'alternativen-banken-17');
});

t.test('when the base is already 120 characters, then it is shortened at a hyphen to fit the suffix', async (t) => {
  const base = `${'abc-'.repeat(29)}abcd`;
  t.equal(base.length, 120);
  for (const attempt of [2, 9, 10, 123]) {
    const candidate = slugCandidate(base, attempt);
    t.ok(candidate.length <= 120, `${candidate.length} <= 120`);
    t.match(candidate, SLUG_PATTERN);
    t.ok(candidate.endsWith(`-${attempt}`));
    const stem = candidate.slice(0, -`-${attempt}`.length);
    t.ok(base.startsWith(`${stem}-`), 'the base is cut at a word boundary');
  }
});

t.test('when the base is one 120-character word, then it is cut inside the word to fit the suffix', async (t) => {
  t.equal(slugCandidate('a'.repeat(120), 2), `${'a'.repeat(118)}-2`);
  t.equal(slugCandidate('a'.repeat(120), 10), `${'a'.repeat(117)}-10`);
});

t.test('when the attempt is not a positive integer, then it throws', async (t) => {
  t.throws(() => slugCandidate('x', 0), RangeError);
  t.throws(() => slugCandidate('x', 1.5), RangeError);
  t.throws(() => slugCandidate('x', Number.NaN), RangeError);
});
