import t from 'tap';
import { createContractValidator } from '../../src/contracts/index.js';
import { defaultCta, defaultSeo, META_DESCRIPTION_MAX_LENGTH, META_KEYWORDS_MAX_COUNT, META_TITLE_MAX_LENGTH } from '../../src/domain/defaults.js';

const validator = createContractValidator();

const catalogueCourse = {
  title: 'Alternativen zu Banken & Sparkassen',
  description: 'Ein praxisnaher Grundlagenkurs...',
  target_group: ['private_individuals'],
  language: 'de',
};

const longTitle = 'Die sieben besten Alternativen zu klassischen Banken und Sparkassen für Angestellte 2025';
const longDescription = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(5);

t.test('when the language is German, then the default CTA is a German enrol button', async (t) => {
  t.same(defaultCta('de'), { label: 'Jetzt einschreiben', type: 'primary_button', url: null });
  t.same(defaultCta('de-AT'), { label: 'Jetzt einschreiben', type: 'primary_button', url: null });
});

t.test('when the language is not German, then the default CTA is an English enrol button', async (t) => {
  t.same(defaultCta('en'), { label: 'Enroll now', type: 'primary_button', url: null });
  t.same(defaultCta('fr-FR'), { label: 'Enroll now', type: 'primary_button', url: null });
});

t.test("when the catalogue's course is given, then its SEO is its title, description and keywords", async (t) => {
  t.same(defaultSeo(catalogueCourse), {
    meta_title: 'Alternativen zu Banken & Sparkassen',
    meta_description: 'Ein praxisnaher Grundlagenkurs...',
    meta_keywords: ['alternativen', 'banken', 'sparkassen', 'private_individuals'],
  });
});

t.test('when the title is longer than 60 characters, then meta_title is cut at a word boundary without dangling words', async (t) => {
  const { meta_title } = defaultSeo({ ...catalogueCourse, title: longTitle });
  t.equal(meta_title, 'Die sieben besten Alternativen zu klassischen Banken');
  t.ok((meta_title ?? '').length <= META_TITLE_MAX_LENGTH);
  t.notMatch(meta_title ?? '', /…/, 'no ellipsis in a title');
});

t.test('when the title is one word longer than 60 characters, then meta_title is cut inside it', async (t) => {
  t.equal(defaultSeo({ ...catalogueCourse, title: 'x'.repeat(80) }).meta_title, 'x'.repeat(60));
});

t.test('when the description has runs of whitespace, then meta_description collapses them and is not marked as cut', async (t) => {
  const { meta_description } = defaultSeo({ ...catalogueCourse, description: '  Ein\n\nKurs \t über   Banken.  ' });
  t.equal(meta_description, 'Ein Kurs über Banken.');
});

t.test('when the description is longer than 160 characters, then meta_description is cut at a word and ends in …', async (t) => {
  const { meta_description = '' } = defaultSeo({ ...catalogueCourse, description: longDescription });
  t.equal(
    meta_description,
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur…',
  );
  t.ok(Array.from(meta_description).length <= META_DESCRIPTION_MAX_LENGTH);
});

t.test('when a description is exactly 160 characters, then it is kept whole', async (t) => {
  const exact = `${'abcd '.repeat(31)}abcde`;
  t.equal(exact.length, 160);
  t.equal(defaultSeo({ ...catalogueCourse, description: exact }).meta_description, exact);
});

t.test('when the description is blank, then meta_description is left out so publishing names it as missing', async (t) => {
  const seo = defaultSeo({ ...catalogueCourse, description: ' \n ' });
  t.notOk('meta_description' in seo);
});

t.test('when the title has stop words, short words and repeats, then the keywords skip them', async (t) => {
  const seo = defaultSeo({
    title: 'Banken und Sparkassen für die Praxis: Banken mit der Bank, the Guide for Money',
    description: '',
    target_group: ['employees'],
    language: 'de',
  });
  t.same(seo.meta_keywords, ['banken', 'sparkassen', 'praxis', 'bank', 'guide', 'money', 'employees']);
});

t.test('when the title has many words, then at most 10 keywords are kept, title words first', async (t) => {
  const seo = defaultSeo({ ...catalogueCourse, title: longTitle, target_group: ['employees', 'students'] });
  t.same(seo.meta_keywords, ['sieben', 'besten', 'alternativen', 'klassischen', 'banken', 'sparkassen', 'angestellte', '2025', 'employees', 'students']);
  const many = defaultSeo({ ...catalogueCourse, title: 'alpha bravo charlie delta echo1 foxtrot golf1 hotel india juliet kilo1 lima1' });
  t.equal(many.meta_keywords?.length, META_KEYWORDS_MAX_COUNT);
  t.notOk(many.meta_keywords?.includes('private_individuals'), 'audiences come after the title words');
});

t.test('when a title word is a compound with a hyphen or has umlauts, then the keyword keeps it whole and lower-case', async (t) => {
  const seo = defaultSeo({ ...catalogueCourse, title: 'E-Commerce für Bäckereien', target_group: [] });
  t.same(seo.meta_keywords, ['e-commerce', 'bäckereien']);
});

t.test('when the same input is given twice, then the output is the same', async (t) => {
  t.same(defaultSeo({ ...catalogueCourse, title: longTitle }), defaultSeo({ ...catalogueCourse, title: longTitle }));
});

t.test('when the defaults are sent in a create request, then the contract accepts them', async (t) => {
  for (const [title, description, language] of [
    [longTitle, longDescription, 'de'],
    ['x'.repeat(200), 'y'.repeat(5000), 'en'],
    [catalogueCourse.title, '', 'de-AT'],
  ] as const) {
    const request = {
      course_id: 'course_456def',
      title,
      language,
      seo: defaultSeo({ title, description, language, target_group: ['employees'] }),
      cta: defaultCta(language),
    };
    const result = validator.validate('op.create.request', request);
    t.ok(result.ok, `valid for ${language}`, result.ok ? {} : { issues: result.issues });
  }
});
