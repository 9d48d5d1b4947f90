/**
 * Given/when/then for the distribution decider, after emmett's DeciderSpecification: given a state (and events
 * that happened to it), when a command is decided, then these events (or this rejection, or nothing).
 * Every event a `then` sees is also checked against the contract, wrapped in an envelope, so the domain can never
 * emit a payload the schemas reject.
 */
import type { Test } from 'tap';
import type { ContractValidator } from '../../src/contracts/index.js';
import {
  createDistribution,
  decide,
  evolve,
  type Decision,
  type DistributionCommand,
  type DistributionState,
  type EventDraft,
  type NewDistribution,
} from '../../src/domain/distribution.js';
import type { ErrorCode } from '../../src/errors.js';

export const T0 = '2025-12-28T10:30:00Z';
export const T1 = '2025-12-28T11:00:00Z';
export const T2 = '2025-12-28T12:00:00Z';
export const T3 = '2025-12-28T13:00:00Z';

/** A private root distribution created at T0, with overrides applied to the state. */
export function aDistribution(overrides: Partial<DistributionState> = {}, input: Partial<NewDistribution> = {}): DistributionState {
  const { state } = createDistribution(
    {
      id: 'dist_123abc',
      tenant_id: 'brain_prod',
      course_id: 'course_456def',
      slug: 'alternativen-banken-privatpersonen',
      language: 'de',
      title: 'Alternativen zu Banken & Sparkassen',
      target_group: ['private_individuals'],
      ...input,
    },
    T0,
  );
  return { ...state, ...overrides };
}

/** A distribution that meets the publish requirements. */
export function aPublishableDistribution(overrides: Partial<DistributionState> = {}): DistributionState {
  return aDistribution({
    description: 'Ein praxisnaher Grundlagenkurs über Neobanken, FinTechs und Krypto-Wallets.',
    seo: {
      meta_title: 'Die 7 besten Alternativen zu klassischen Banken 2025',
      meta_description: 'Vergleich: Neobanken, FinTechs & Krypto-Wallets...',
      meta_keywords: ['neobanken', 'fintech', 'alternativen'],
    },
    ...overrides,
  });
}

/** The Charter v1.0 envelope the application would put around a draft. */
export function envelopeOf(draft: EventDraft, now: string): unknown {
  return {
    id: 'evt_test1',
    type: draft.type,
    timestamp: now,
    payload: draft.payload,
    meta: {
      schema_version: '1.0',
      producer: 'course_distribution',
      source_module: 'course_distribution',
      tenant_id: 'brain_prod',
      correlation_id: 'req_1',
      causation_id: null,
    },
    target: null,
  };
}

/** Asserts that every draft, in an envelope, is valid against its event schema. */
export function assertContractValid(t: Test, validator: ContractValidator, events: EventDraft[], now: string): void {
  for (const draft of events) {
    const result = validator.validate(draft.type, envelopeOf(draft, now));
    t.ok(result.ok, `${draft.type} is valid against the contract`, result.ok ? {} : { issues: result.issues });
  }
}

export interface Then {
  /** The raw decision, for assertions the helpers below do not cover. */
  decision: Decision;
  /** Expects exactly these events (each valid against the contract); returns the state after evolving them. */
  then(expected: EventDraft[]): DistributionState;
  /** Expects success with no event: an idempotent repeat or a change to the same values. */
  thenNothing(): void;
  /** Expects a rejection with this code; returns its message and details for further checks. */
  thenRejected(code: ErrorCode): { message: string; details?: unknown };
}

/** Builds given/when/then for one test; `given` replays `history` onto `state` with evolve. */
export function distributionSpecification(t: Test, validator: ContractValidator) {
  return {
    given(state: DistributionState, ...history: EventDraft[]) {
      const current = history.reduce(evolve, state);
      return {
        when(command: DistributionCommand, now: string): Then {
          const decision = decide(current, command, now);
          return {
            decision,
            then(expected) {
              if (!decision.ok) {
                t.fail(`expected events, got rejection ${decision.rejection.code}: ${decision.rejection.message}`);
                return current;
              }
              t.same(decision.events, expected, 'the events');
              assertContractValid(t, validator, decision.events, now);
              return decision.events.reduce(evolve, current);
            },
            thenNothing() {
              t.same(decision, { ok: true, events: [] }, 'no events');
            },
            thenRejected(code) {
              if (decision.ok) {
                t.fail(`expected rejection ${code}, got ${decision.events.length} event(s)`);
                return { message: '' };
              }
              t.equal(decision.rejection.code, code, 'the rejection code');
              return decision.rejection;
            },
          };
        },
      };
    },
  };
}
