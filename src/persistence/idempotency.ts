/**
 * Idempotency keys: a retried create / variant / bump with the same key returns the first result instead of
 * doing it again. The record is written in the transaction of the effect, so either both exist or neither.
 * Two concurrent requests with one key: the second one's insert waits for the first transaction and then fails
 * on the primary key; the command is retried and finds the stored response.
 */
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalJson } from '../domain/canonical-json.js';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity.js';

export interface IdempotencyScope {
  tenantId: string;
  operation: string;
  key: string;
}

/** Hash of a request without the fields that may differ between retries of the same request. */
export function requestHash(request: Record<string, unknown>): string {
  const { correlation_id: _ignored, ...rest } = request;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

export async function findIdempotentResponse(
  em: EntityManager,
  scope: IdempotencyScope,
): Promise<{ requestHash: string; response: Record<string, unknown> } | null> {
  const row = await em.findOne(IdempotencyRecordEntity, { tenantId: scope.tenantId, operation: scope.operation, key: scope.key });
  return row ? { requestHash: row.requestHash, response: row.response } : null;
}

export async function recordIdempotentResponse(
  em: EntityManager,
  scope: IdempotencyScope,
  hash: string,
  response: object,
): Promise<void> {
  await em.insert(IdempotencyRecordEntity, {
    tenantId: scope.tenantId,
    operation: scope.operation,
    key: scope.key,
    requestHash: hash,
    response: response as Record<string, unknown>,
    createdAt: new Date(),
  });
}
