import t from 'tap';
import { createContractValidator, type DistributionDeletedPayload, type DistributionPublishedPayload, type DistributionUnpublishedPayload } from '../../src/contracts/index.js';
import {
  createDistribution,
  decide,
  deriveVariant,
  evolve,
  nextVersionLabel,
  toResource,
  type DistributionCommand,
  type DistributionState,
  type EventDraft,
} from '../../src/domain/distribution.js';
import { catalogueExample } from '../helpers/examples.js';
import { aDistribution, aPublishableDistribution, assertContractValid, distributionSpecification, T0, T1, T2, T3 } from './distribution-specification.js';

const validator = createContractValidator();

const ALL_COMMANDS: DistributionCommand[] = [
  { type: 'update', changes: { title: 'Neu' } },
  { type: 'publish' },
  { type: 'unpublish', reason: 'content_revision_required' },
  { type: 'bump_version', changelog: 'More' },
  { type: 'delete', deleted_by: 'admin_user_id' },
  { type: 'apply_staging', staging_url: 'https://staging.example.com/c', deployed_at: T1 },
];

t.test('create', async (t) => {
  t.test('when only the required fields are given, then the defaults fill the rest and distribution.created is emitted', async (t) => {
    const { state, events } = createDistribution(
      {
        id: 'dist_123abc',
        tenant_id: 'brain_prod',
        course_id: 'course_456def',
        slug: 'alternativen-banken-privatpersonen',
        language: 'de',
        title: 'Alternativen zu Banken & Sparkassen',
      },
      T0,
    );
    t.same(state, {
      id: 'dist_123abc',
      tenant_id: 'brain_prod',
      course_id: 'course_456def',
      slug: 'alternativen-banken-privatpersonen',
      language: 'de',
      title: 'Alternativen zu Banken & Sparkassen',
      description: '',
      target_group: [],
      visibility: 'private',
      version: 'v1',
      derived_from: null,
      seo: {},
      cta: { label: 'Jetzt einschreiben', type: 'primary_button', url: null },
      staging_url: null,
      staging_deployed_at: null,
      view_count: 0,
      enrollment_count: 0,
      published_at: null,
      created_at: T0,
      updated_at: T0,
      deleted_at: null,
    });
    t.same(events, [
      {
        type: 'distribution.created',
        payload: {
          distribution_id: 'dist_123abc',
          course_id: 'course_456def',
          slug: 'alternativen-banken-privatpersonen',
          language: 'de',
          title: 'Alternativen zu Banken & Sparkassen',
          target_group: [],
          visibility: 'private',
          version: 'v1',
          derived_from: null,
          created_at: T0,
        },
      },
    ]);
    assertContractValid(t, validator, events, T0);
  });

  t.test("when the catalogue's distribution is created, then the event payload is the catalogue's", async (t) => {
    const example = catalogueExample('distribution.created');
    const { events } = createDistribution(
      {
        id: 'dist_123abc',
        tenant_id: 'brain_prod',
        course_id: 'course_456def',
        slug: 'alternativen-banken-privatpersonen',
        language: 'de',
        title: 'Alternativen zu Banken & Sparkassen',
        target_group: ['private_individuals'],
      },
      '2025-12-28T10:30:00Z',
    );
    t.same(events[0]?.payload, example.payload);
  });

  t.test('when content is given, then it is kept and an English distribution gets the English CTA', async (t) => {
    const seo = { meta_title: 'T', meta_description: 'D', meta_keywords: ['k'] };
    const { state } = createDistribution(
      {
        id: 'dist_en1',
        tenant_id: 'brain_prod',
        course_id: 'course_1',
        slug: 'banks',
        language: 'en',
        title: 'Banks',
        description: 'About banks',
        target_group: ['employees'],
        seo,
      },
      T0,
    );
    t.match(state, { description: 'About banks', target_group: ['employees'], seo, cta: { label: 'Enroll now' } });
    t.not(state.seo, seo, 'the state does not share objects with the input');
  });
});

t.test('update', async (t) => {
  t.test("when the title changes (the catalogue's example), then updated lists it with old and new values", async (t) => {
    const spec = distributionSpecification(t, validator);
    const after = spec
      .given(aDistribution({ title: 'Old Title' }))
      .when({ type: 'update', changes: { title: 'New Title' } }, T1)
      .then([
        {
          type: 'distribution.updated',
          payload: {
            distribution_id: 'dist_123abc',
            updated_fields: ['title'],
            old_values: { title: 'Old Title' },
            new_values: { title: 'New Title' },
            updated_at: T1,
          },
        },
      ]);
    t.equal(after.title, 'New Title');
    t.equal(after.updated_at, T1);
  });

  t.test("when title, description and seo change, then updated_fields are the catalogue's and hold its values", async (t) => {
    const example = catalogueExample('distribution.updated');
    const decision = decide(
      aDistribution({ title: 'Old Title' }),
      { type: 'update', changes: { seo: { meta_title: 'New' }, description: 'Neu', title: 'New Title' } },
      '2025-12-28T11:00:00Z',
    );
    t.ok(decision.ok);
    if (!decision.ok) return;
    const payload = decision.events[0]?.payload;
    t.has(payload, example.payload, "the catalogue's payload is contained in ours");
    t.same(payload, {
      distribution_id: 'dist_123abc',
      updated_fields: ['title', 'description', 'seo'],
      old_values: { title: 'Old Title', description: '', seo: {} },
      new_values: { title: 'New Title', description: 'Neu', seo: { meta_title: 'New' } },
      updated_at: '2025-12-28T11:00:00Z',
    });
  });

  t.test('when every field is sent with its current value, then nothing is emitted', async (t) => {
    const state = aPublishableDistribution();
    const spec = distributionSpecification(t, validator);
    spec
      .given(state)
      .when(
        {
          type: 'update',
          changes: {
            slug: state.slug,
            title: state.title,
            description: state.description,
            language: state.language,
            target_group: [...state.target_group],
            // The same object with its keys in another order is the same value.
            seo: { meta_keywords: state.seo.meta_keywords ?? [], meta_description: state.seo.meta_description ?? '', meta_title: state.seo.meta_title ?? '' },
            cta: { url: null, type: 'primary_button', label: 'Jetzt einschreiben' },
          },
        },
        T1,
      )
      .thenNothing();
  });

  t.test('when nothing is sent, then nothing is emitted', async (t) => {
    distributionSpecification(t, validator).given(aDistribution()).when({ type: 'update', changes: {} }, T1).thenNothing();
  });

  t.test('when fields are sent in any order, then only the changed ones are listed, in the fixed order', async (t) => {
    const state = aDistribution();
    const after = distributionSpecification(t, validator)
      .given(state)
      .when(
        {
          type: 'update',
          changes: {
            cta: { label: 'Los', type: 'banner', url: 'https://example.com/enrol' },
            target_group: ['employees', 'students'],
            title: state.title,
            slug: 'neuer-slug',
            language: 'de-AT',
          },
        },
        T2,
      )
      .then([
        {
          type: 'distribution.updated',
          payload: {
            distribution_id: 'dist_123abc',
            updated_fields: ['slug', 'language', 'target_group', 'cta'],
            old_values: {
              slug: 'alternativen-banken-privatpersonen',
              language: 'de',
              target_group: ['private_individuals'],
              cta: { label: 'Jetzt einschreiben', type: 'primary_button', url: null },
            },
            new_values: {
              slug: 'neuer-slug',
              language: 'de-AT',
              target_group: ['employees', 'students'],
              cta: { label: 'Los', type: 'banner', url: 'https://example.com/enrol' },
            },
            updated_at: T2,
          },
        },
      ]);
    t.match(after, { slug: 'neuer-slug', language: 'de-AT', target_group: ['employees', 'students'], cta: { type: 'banner' }, title: state.title });
  });

  t.test('when the audiences are reordered, then that is a change', async (t) => {
    const decision = decide(aDistribution({ target_group: ['a', 'b'] }), { type: 'update', changes: { target_group: ['b', 'a'] } }, T1);
    t.match(decision, { ok: true, events: [{ payload: { updated_fields: ['target_group'] } }] });
  });

  t.test('when staging fields are smuggled into an update, then they are ignored', async (t) => {
    const changes = { staging_url: 'https://staging.example.com/x' } as unknown as { title: string };
    distributionSpecification(t, validator).given(aDistribution()).when({ type: 'update', changes }, T1).thenNothing();
  });

  t.test('when the event is applied, then the state does not share objects with the event', async (t) => {
    const decision = decide(aDistribution(), { type: 'update', changes: { seo: { meta_title: 'X' } } }, T1);
    const event = decision.ok ? decision.events[0] : undefined;
    if (event?.type !== 'distribution.updated') return t.fail('expected distribution.updated');
    const after = evolve(aDistribution(), event);
    t.same(after.seo, { meta_title: 'X' });
    t.not(after.seo, (event.payload.new_values as { seo: object }).seo);
  });
});

t.test('publish', async (t) => {
  t.test('when a private distribution meets the requirements, then distribution.published is emitted and it becomes public', async (t) => {
    const after = distributionSpecification(t, validator)
      .given(aPublishableDistribution())
      .when({ type: 'publish' }, '2025-12-28T13:00:00Z')
      .then([{ type: 'distribution.published', payload: catalogueExample('distribution.published').payload as DistributionPublishedPayload }]);
    t.match(after, { visibility: 'public', published_at: '2025-12-28T13:00:00Z', updated_at: '2025-12-28T13:00:00Z' });
  });

  t.test('when seo has no keywords, then the published seo carries an empty list', async (t) => {
    const state = aPublishableDistribution({ seo: { meta_title: 'T', meta_description: 'D' } });
    const decision = decide(state, { type: 'publish' }, T1);
    t.match(decision, { ok: true, events: [{ payload: { seo: { meta_title: 'T', meta_description: 'D', meta_keywords: [] } } }] });
    if (decision.ok) assertContractValid(t, validator, decision.events, T1);
  });

  t.test('when the requirements are unmet, then it is refused naming every missing field', async (t) => {
    const rejection = distributionSpecification(t, validator)
      .given(aDistribution({ description: '  \n ', seo: { meta_title: ' ' } }))
      .when({ type: 'publish' }, T1)
      .thenRejected('PUBLISH_REQUIREMENTS_UNMET');
    t.same(rejection.details, { missing: ['description', 'seo.meta_title', 'seo.meta_description'] });
    t.match(rejection.message, /description, seo\.meta_title, seo\.meta_description/);
  });

  t.test('when only the meta description is missing, then only it is named', async (t) => {
    const rejection = distributionSpecification(t, validator)
      .given(aPublishableDistribution({ seo: { meta_title: 'T' } }))
      .when({ type: 'publish' }, T1)
      .thenRejected('PUBLISH_REQUIREMENTS_UNMET');
    t.same(rejection.details, { missing: ['seo.meta_description'] });
  });

  t.test('when it is already public, then publishing again emits nothing', async (t) => {
    const spec = distributionSpecification(t, validator);
    const published = spec.given(aPublishableDistribution()).when({ type: 'publish' }, T1).decision;
    if (!published.ok) return t.fail('expected to publish');
    spec
      .given(aPublishableDistribution(), ...published.events)
      .when({ type: 'publish' }, T2)
      .thenNothing();
  });
});

t.test('unpublish', async (t) => {
  t.test('when a public distribution is unpublished, then distribution.unpublished is emitted and it becomes private', async (t) => {
    const after = distributionSpecification(t, validator)
      .given(aPublishableDistribution({ visibility: 'public', published_at: T1 }))
      .when({ type: 'unpublish', reason: 'content_revision_required' }, '2025-12-28T14:00:00Z')
      .then([{ type: 'distribution.unpublished', payload: catalogueExample('distribution.unpublished').payload as DistributionUnpublishedPayload }]);
    t.match(after, { visibility: 'private', published_at: null, updated_at: '2025-12-28T14:00:00Z' });
  });

  t.test('when it is already private, then unpublishing emits nothing', async (t) => {
    distributionSpecification(t, validator).given(aDistribution()).when({ type: 'unpublish', reason: 'content_revision_required' }, T1).thenNothing();
  });

  t.test('when it is published, unpublished and published again, then each step emits once', async (t) => {
    const spec = distributionSpecification(t, validator);
    let state = spec
      .given(aPublishableDistribution())
      .when({ type: 'publish' }, T1)
      .then([{ type: 'distribution.published', payload: { ...(catalogueExample('distribution.published').payload as DistributionPublishedPayload), published_at: T1 } }]);
    state = spec
      .given(state)
      .when({ type: 'unpublish', reason: 'outdated' }, T2)
      .then([{ type: 'distribution.unpublished', payload: { distribution_id: 'dist_123abc', slug: state.slug, unpublished_at: T2, reason: 'outdated' } }]);
    const decision = spec.given(state).when({ type: 'publish' }, T3).decision;
    t.match(decision, { ok: true, events: [{ type: 'distribution.published', payload: { published_at: T3 } }] });
  });
});

t.test('bump_version', async (t) => {
  t.test('when the version is bumped twice, then it goes v1 -> v2 -> v3 with trimmed changelogs', async (t) => {
    const spec = distributionSpecification(t, validator);
    const v2 = spec
      .given(aDistribution())
      .when({ type: 'bump_version', changelog: '  Added new lesson on crypto wallets \n' }, T1)
      .then([
        {
          type: 'distribution.version_bumped',
          payload: {
            distribution_id: 'dist_123abc',
            slug: 'alternativen-banken-privatpersonen',
            old_version: 'v1',
            new_version: 'v2',
            bumped_at: T1,
            changelog: 'Added new lesson on crypto wallets',
          },
        },
      ]);
    t.match(v2, { version: 'v2', updated_at: T1 });
    const v3 = spec
      .given(v2)
      .when({ type: 'bump_version', changelog: 'Fixed typos' }, T2)
      .then([
        {
          type: 'distribution.version_bumped',
          payload: {
            distribution_id: 'dist_123abc',
            slug: 'alternativen-banken-privatpersonen',
            old_version: 'v2',
            new_version: 'v3',
            bumped_at: T2,
            changelog: 'Fixed typos',
          },
        },
      ]);
    t.match(v3, { version: 'v3', updated_at: T2 });
  });

  t.test('when the changelog is blank, then it is refused as invalid', async (t) => {
    const rejection = distributionSpecification(t, validator).given(aDistribution()).when({ type: 'bump_version', changelog: ' \t\n' }, T1).thenRejected('VALIDATION_FAILED');
    t.same(rejection.details, [{ path: '/changelog', reason: 'must not be blank' }]);
  });

  t.test('when the version is the last a label can carry, then bumping is refused', async (t) => {
    distributionSpecification(t, validator)
      .given(aDistribution({ version: 'v999999' }))
      .when({ type: 'bump_version', changelog: 'one more' }, T1)
      .thenRejected('ILLEGAL_TRANSITION');
  });

  t.test('when the next label is asked, then the number goes up by one', async (t) => {
    t.equal(nextVersionLabel('v1'), 'v2');
    t.equal(nextVersionLabel('v7'), 'v8');
    t.equal(nextVersionLabel('v9'), 'v10');
    t.equal(nextVersionLabel('v99'), 'v100');
    t.throws(() => nextVersionLabel('7'), RangeError);
    t.throws(() => nextVersionLabel('v0'), RangeError);
    t.throws(() => nextVersionLabel('v01'), RangeError);
  });
});

t.test('delete', async (t) => {
  t.test('when a distribution is deleted, then distribution.deleted is emitted and deleted_at is set', async (t) => {
    const after = distributionSpecification(t, validator)
      .given(aDistribution())
      .when({ type: 'delete', deleted_by: 'admin_user_id' }, '2025-12-28T12:00:00Z')
      .then([{ type: 'distribution.deleted', payload: catalogueExample('distribution.deleted').payload as DistributionDeletedPayload }]);
    t.equal(after.deleted_at, '2025-12-28T12:00:00Z');
  });

  t.test('when a distribution is deleted, then every further command is refused with NOT_FOUND', async (t) => {
    const spec = distributionSpecification(t, validator);
    const deleted: EventDraft = {
      type: 'distribution.deleted',
      payload: { distribution_id: 'dist_123abc', slug: 'alternativen-banken-privatpersonen', course_id: 'course_456def', deleted_at: T1, deleted_by: 'admin' },
    };
    for (const command of ALL_COMMANDS) {
      spec.given(aPublishableDistribution(), deleted).when(command, T2).thenRejected('NOT_FOUND');
    }
  });
});

t.test('apply_staging', async (t) => {
  const url = 'https://staging.brain.falklabs.de/courses/course_456def';

  t.test('when the first deployment arrives, then both staging fields are set in one update', async (t) => {
    const after = distributionSpecification(t, validator)
      .given(aDistribution())
      .when({ type: 'apply_staging', staging_url: url, deployed_at: '2025-12-28T09:30:00Z' }, T1)
      .then([
        {
          type: 'distribution.updated',
          payload: {
            distribution_id: 'dist_123abc',
            updated_fields: ['staging_url', 'staging_deployed_at'],
            old_values: { staging_url: null, staging_deployed_at: null },
            new_values: { staging_url: url, staging_deployed_at: '2025-12-28T09:30:00Z' },
            updated_at: T1,
          },
        },
      ]);
    t.match(after, { staging_url: url, staging_deployed_at: '2025-12-28T09:30:00Z', updated_at: T1 });
  });

  t.test('when the same deployment arrives again, then nothing is emitted, however its time is written', async (t) => {
    const state = aDistribution({ staging_url: url, staging_deployed_at: '2025-12-28T09:30:00Z' });
    const spec = distributionSpecification(t, validator);
    spec.given(state).when({ type: 'apply_staging', staging_url: url, deployed_at: '2025-12-28T09:30:00Z' }, T1).thenNothing();
    spec.given(state).when({ type: 'apply_staging', staging_url: url, deployed_at: '2025-12-28T10:30:00.000+01:00' }, T1).thenNothing();
  });

  t.test('when a newer deployment has the same URL, then only staging_deployed_at is updated', async (t) => {
    distributionSpecification(t, validator)
      .given(aDistribution({ staging_url: url, staging_deployed_at: '2025-12-28T09:30:00Z' }))
      .when({ type: 'apply_staging', staging_url: url, deployed_at: '2025-12-28T10:00:00Z' }, T1)
      .then([
        {
          type: 'distribution.updated',
          payload: {
            distribution_id: 'dist_123abc',
            updated_fields: ['staging_deployed_at'],
            old_values: { staging_deployed_at: '2025-12-28T09:30:00Z' },
            new_values: { staging_deployed_at: '2025-12-28T10:00:00Z' },
            updated_at: T1,
          },
        },
      ]);
  });

  t.test('when an older deployment arrives after a newer one, then it is ignored', async (t) => {
    distributionSpecification(t, validator)
      .given(aDistribution({ staging_url: `${url}/v2`, staging_deployed_at: '2025-12-28T10:00:00Z' }))
      .when({ type: 'apply_staging', staging_url: `${url}/v1`, deployed_at: '2025-12-28T09:30:00Z' }, T1)
      .thenNothing();
  });

  t.test('when the deployment time is not a timestamp, then it is refused as invalid', async (t) => {
    distributionSpecification(t, validator)
      .given(aDistribution())
      .when({ type: 'apply_staging', staging_url: url, deployed_at: 'yesterday' }, T1)
      .thenRejected('VALIDATION_FAILED');
  });
});

t.test('micro-niche variants', async (t) => {
  const parent = aPublishableDistribution({ visibility: 'public', published_at: T1, version: 'v3', view_count: 50 });

  t.test('when a variant is derived, then it copies the parent, and created and micro_niche_created are emitted', async (t) => {
    const result = deriveVariant(parent, { id: 'dist_789xyz', slug: 'alternativen-banken-angestellte', target_group: ['employees'] }, T2);
    if (!result.ok) return t.fail(result.rejection.message);
    t.same(result.state, {
      ...parent,
      id: 'dist_789xyz',
      slug: 'alternativen-banken-angestellte',
      target_group: ['employees'],
      visibility: 'private',
      version: 'v1',
      derived_from: 'dist_123abc',
      view_count: 0,
      published_at: null,
      created_at: T2,
      updated_at: T2,
    });
    t.same(result.events, [
      {
        type: 'distribution.created',
        payload: {
          distribution_id: 'dist_789xyz',
          course_id: 'course_456def',
          slug: 'alternativen-banken-angestellte',
          language: 'de',
          title: parent.title,
          target_group: ['employees'],
          visibility: 'private',
          version: 'v1',
          derived_from: 'dist_123abc',
          created_at: T2,
        },
      },
      {
        type: 'distribution.micro_niche_created',
        payload: {
          child_distribution_id: 'dist_789xyz',
          parent_distribution_id: 'dist_123abc',
          parent_slug: 'alternativen-banken-privatpersonen',
          child_slug: 'alternativen-banken-angestellte',
          target_group_override: ['employees'],
          title_override: null,
          created_at: T2,
        },
      },
    ]);
    assertContractValid(t, validator, result.events, T2);
  });

  t.test('when content is overridden, then the variant has it and title_override names the title', async (t) => {
    const seo = { meta_title: 'Für Angestellte', meta_description: 'Kurz' };
    const cta = { label: 'Anmelden', type: 'banner' as const, url: null };
    const result = deriveVariant(
      aDistribution({ slug: 'alternativen-banken' }),
      {
        id: 'dist_789xyz',
        slug: 'alternativen-banken-angestellte',
        target_group: ['employees'],
        title: 'Finanzalternativen für Angestellte',
        description: 'Für Menschen im Angestelltenverhältnis.',
        seo,
        cta,
      },
      '2025-12-28T17:00:00Z',
    );
    if (!result.ok) return t.fail(result.rejection.message);
    t.match(result.state, { title: 'Finanzalternativen für Angestellte', description: 'Für Menschen im Angestelltenverhältnis.', seo, cta });
    t.same(result.events[1]?.payload, catalogueExample('distribution.micro_niche_created').payload);
    assertContractValid(t, validator, result.events, T2);
  });

  t.test('when the parent is itself a variant, then deriving is refused', async (t) => {
    const variant = aDistribution({ id: 'dist_child1', derived_from: 'dist_123abc' });
    const result = deriveVariant(variant, { id: 'dist_grandchild', slug: 'x', target_group: ['employees'] }, T2);
    t.match(result, { ok: false, rejection: { code: 'VARIANT_OF_VARIANT', message: /dist_child1.*dist_123abc/ } });
  });

  t.test('when the parent is deleted, then deriving is refused', async (t) => {
    const result = deriveVariant(aDistribution({ deleted_at: T1 }), { id: 'dist_c', slug: 'x', target_group: ['employees'] }, T2);
    t.match(result, { ok: false, rejection: { code: 'PARENT_DELETED' } });
  });

  t.test('when no audience is given, then deriving is refused as invalid', async (t) => {
    const result = deriveVariant(parent, { id: 'dist_c', slug: 'x', target_group: [] }, T2);
    t.match(result, { ok: false, rejection: { code: 'VALIDATION_FAILED' } });
  });

  t.test('when the child is changed, then the parent is not', async (t) => {
    const result = deriveVariant(parent, { id: 'dist_c', slug: 'x', target_group: ['employees'] }, T2);
    if (!result.ok) return t.fail(result.rejection.message);
    result.state.seo.meta_title = 'changed';
    t.not(parent.seo.meta_title, 'changed');
  });
});

t.test('evolve', async (t) => {
  t.test('when views and clicks are counted, then the running totals replace the counts', async (t) => {
    const viewed: EventDraft = {
      type: 'distribution.viewed',
      payload: { distribution_id: 'dist_123abc', slug: 'alternativen-banken-privatpersonen', view_count: 127, viewed_at: T1, referrer_category: 'organic_search' },
    };
    const clicked: EventDraft = {
      type: 'distribution.enrollment_clicked',
      payload: { distribution_id: 'dist_123abc', slug: 'alternativen-banken-privatpersonen', enrollment_count: 15, clicked_at: T1, cta_type: 'primary_button' },
    };
    assertContractValid(t, validator, [viewed, clicked], T1);
    const after = [viewed, clicked, viewed].reduce(evolve, aDistribution());
    t.match(after, { view_count: 127, enrollment_count: 15, updated_at: T0 });
  });

  t.test('when created or micro_niche_created is applied, then the state is unchanged', async (t) => {
    const state = aDistribution();
    const result = deriveVariant(state, { id: 'dist_c', slug: 'x', target_group: ['employees'] }, T2);
    if (!result.ok) return t.fail(result.rejection.message);
    for (const event of result.events) t.equal(evolve(state, event), state);
  });

  t.test('when an updated event lists values beyond its updated_fields, then only the listed ones are applied', async (t) => {
    const event: EventDraft = {
      type: 'distribution.updated',
      payload: { distribution_id: 'dist_123abc', updated_fields: ['title'], old_values: {}, new_values: { title: 'A', slug: 'b' }, updated_at: T1 },
    };
    t.match(evolve(aDistribution(), event), { title: 'A', slug: 'alternativen-banken-privatpersonen', updated_at: T1 });
  });
});

t.test('when the state becomes a resource, then deleted_at goes, row_version comes, and the contract accepts it', async (t) => {
  const state: DistributionState = aPublishableDistribution({ deleted_at: null, staging_url: 'https://staging.example.com/c', staging_deployed_at: T1 });
  const resource = toResource(state, 4);
  t.notOk('deleted_at' in resource);
  t.equal(resource.row_version, 4);
  const { deleted_at: _deleted, ...rest } = state;
  t.same(resource, { ...rest, row_version: 4 });
  const result = validator.validate('op.get.response', resource);
  t.ok(result.ok, 'valid', result.ok ? {} : { issues: result.issues });
});
