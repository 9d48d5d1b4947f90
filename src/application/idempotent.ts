import type { Sql } from '../persistence/database.js';
import { ServiceFailure } from '../errors.js';
import { claimIdempotencyKey, findIdempotentResponse, requestHash, storeIdempotentResponse } from '../persistence/idempotency.js';

/**
 * Runs `effect` at most once per (tenant, operation, idempotency key), inside the caller's transaction: the key is
 * claimed before the effect, so a concurrent retry waits for the first attempt instead of racing it.
 * Without a key it simply runs. With a key already used: the same request gets the stored first response;
 * another request body under the same key is a 409 IDEMPOTENCY_KEY_REUSED.
 */
export async function idempotent<T extends object>(
  tx: Sql,
  scope: { tenantId: string; operation: string; key: string | undefined },
  request: object,
  effect: () => Promise<T>,
): Promise<T> {
  if (scope.key === undefined) return effect();
  const key = { tenantId: scope.tenantId, operation: scope.operation, key: scope.key };
  const hash = requestHash(request as Record<string, unknown>);
  if (!(await claimIdempotencyKey(tx, key, hash))) {
    const stored = await findIdempotentResponse(tx, key);
    if (stored?.requestHash !== hash) {
      throw new ServiceFailure('IDEMPOTENCY_KEY_REUSED', `idempotency key "${scope.key}" was used for a different ${scope.operation} request`);
    }
    return stored.response as T;
  }
  const response = await effect();
  await storeIdempotentResponse(tx, key, response);
  return response;
}
