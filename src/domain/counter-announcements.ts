/**
 * What downstream teams hear of views and clicks: the aggregate events of one distribution for one window, from
 * the counts pending announcement. Pure: the counts, the total and the slug come from the database.
 *
 * Each category gets one event carrying a running total, and the events are ordered so that the difference between
 * two consecutive events of a distribution is exactly the count of the later event's category: the first event's
 * total is the last announced total plus its category's count, and the last event's total is the distribution's
 * total. Attribution is exact (no view is credited to another category) and the totals are monotone.
 */
import type { ClickedCtaType, ReferrerCategory } from '../../generated/types.js';
import { assertNever } from './assert-never.js';
import type { EventDraft } from './distribution.js';

export type CountedKind = 'views' | 'clicks';

/** Views or clicks of one category counted since the last announcement. */
export interface PendingCategory {
  category: string;
  n: number;
  /** When the last of them was counted: the event's viewed_at / clicked_at. */
  lastAt: string;
}

/** The distribution as it is now: its slug and its total, which includes every pending count. */
export interface CountedDistribution {
  id: string;
  slug: string;
  total: number;
}

/**
 * The events announcing `pending`, in the order they must be published: by the time of their last count (then by
 * category, so the order is stable), so the latest count comes last and carries the distribution's total.
 */
export function announcementDrafts(kind: CountedKind, distribution: CountedDistribution, pending: readonly PendingCategory[]): EventDraft[] {
  const ordered = [...pending].sort((a, b) => a.lastAt.localeCompare(b.lastAt) || a.category.localeCompare(b.category));
  let total = distribution.total - ordered.reduce((sum, p) => sum + p.n, 0);
  return ordered.map((p) => {
    total += p.n;
    return draftFor(kind, distribution, total, p);
  });
}

function draftFor(kind: CountedKind, distribution: CountedDistribution, total: number, pending: PendingCategory): EventDraft {
  const { id: distribution_id, slug } = distribution;
  switch (kind) {
    case 'views':
      return {
        type: 'distribution.viewed',
        payload: { distribution_id, slug, view_count: total, viewed_at: pending.lastAt, referrer_category: pending.category as ReferrerCategory },
      };
    case 'clicks':
      return {
        type: 'distribution.enrollment_clicked',
        payload: { distribution_id, slug, enrollment_count: total, clicked_at: pending.lastAt, cta_type: pending.category as ClickedCtaType },
      };
    default:
      return assertNever(kind, 'counted kind');
  }
}
