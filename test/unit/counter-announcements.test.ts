import t from 'tap';
import { announcementDrafts } from '../../src/domain/counter-announcements.js';

const page = { id: 'dist_01JABCDEFGHJKMNPQRSTVWXYZ0', slug: 'seite', total: 110 };

t.test('when several categories are pending, then their events run up to the total, each step exactly its own count, the latest last', async (t) => {
  const drafts = announcementDrafts('views', page, [
    { category: 'social', n: 3, lastAt: '2026-12-08T10:00:00.900Z' },
    { category: 'organic_search', n: 5, lastAt: '2026-12-08T10:00:00.500Z' },
    { category: 'unknown', n: 2, lastAt: '2026-12-08T10:00:00.900Z' },
  ]);
  t.strictSame(
    drafts.map((d) => d.type === 'distribution.viewed' && [d.payload.referrer_category, d.payload.view_count, d.payload.viewed_at]),
    [
      ['organic_search', 105, '2026-12-08T10:00:00.500Z'],
      ['social', 108, '2026-12-08T10:00:00.900Z'],
      ['unknown', 110, '2026-12-08T10:00:00.900Z'],
    ],
    'starts at 100 (the total announced before), ties ordered by category',
  );
});

t.test('when clicks are pending, then the events are enrollment_clicked with the cta_type and enrollment_count', async (t) => {
  const drafts = announcementDrafts('clicks', { ...page, total: 4 }, [{ category: 'unknown', n: 4, lastAt: '2026-12-08T10:00:00.000Z' }]);
  t.strictSame(drafts, [
    {
      type: 'distribution.enrollment_clicked',
      payload: { distribution_id: page.id, slug: 'seite', enrollment_count: 4, clicked_at: '2026-12-08T10:00:00.000Z', cta_type: 'unknown' },
    },
  ]);
});

t.test('when nothing is pending, then there is no event', async (t) => {
  t.strictSame(announcementDrafts('views', page, []), []);
});
