/**
 * Idempotency keys: a retried create / variant / bump with the same key returns the first result instead of
 * doing it again. The key is claimed first and its response stored in the transaction of the effect, so either
 * both exist or neither; a concurrent request with the same key waits on the claim and then reads the response.
 * Records are kept for the idempotency retention (a retry later than that runs again) and deleted in batches.
 */
import { createHash } from 'node:crypto';
import type { Sql } from './database.js';
import { canonicalJson } from '../domain/canonical-json.js';

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

/**
 * Claims the key for this transaction: true when it was free. A concurrent transaction holding the same key makes
 * this wait until it ends; then the key is free again (it rolled back) or taken (it committed its response).
 */
export async function claimIdempotencyKey(db: Sql, scope: IdempotencyScope, hash: string): Promise<boolean> {
  const claimed = await db.execute<{ key: string }>(
    `insert into idempotency_record (tenant_id, operation, key, request_hash, response)
     values (?, ?, ?, ?, '{}'::jsonb) on conflict do nothing returning key`,
    [scope.tenantId, scope.operation, scope.key, hash],
  );
  return claimed.length === 1;
}

export async function findIdempotentResponse(db: Sql, scope: IdempotencyScope): Promise<{ requestHash: string; response: Record<string, unknown> } | null> {
  const [row] = await db.execute<{ request_hash: string; response: Record<string, unknown> }>(
    `select request_hash, response from idempotency_record where tenant_id = ? and operation = ? and key = ?`,
    [scope.tenantId, scope.operation, scope.key],
  );
  return row ? { requestHash: row.request_hash, response: row.response } : null;
}

/** Deletes up to `batchSize` records written before `olderThan`; returns how many went. */
export async function deleteIdempotencyRecordsBefore(db: Sql, olderThan: Date, batchSize: number): Promise<number> {
  const deleted = await db.execute<{ n: number }>(
    `with old as (
       select tenant_id, operation, key from idempotency_record where created_at < ? order by created_at limit ?
     )
     delete from idempotency_record r using old
      where r.tenant_id = old.tenant_id and r.operation = old.operation and r.key = old.key
     returning 1 as n`,
    [olderThan, batchSize],
  );
  return deleted.length;
}

/** Stores the response of the claimed key, in the same transaction as the effect. */
export async function storeIdempotentResponse(db: Sql, scope: IdempotencyScope, response: object): Promise<void> {
  await db.execute(`update idempotency_record set response = ?::jsonb where tenant_id = ? and operation = ? and key = ?`, [
    JSON.stringify(response),
    scope.tenantId,
    scope.operation,
    scope.key,
  ]);
}
