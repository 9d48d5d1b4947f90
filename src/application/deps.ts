import type { MikroORM } from '@mikro-orm/postgresql';
import type { Database } from '../persistence/database.js';
import type { Logger } from 'pino';
import type { ContractValidator } from '../contracts/validator.js';
import type { Mailbox } from './mailbox.js';

export type IdPrefix = 'dist' | 'evt' | 'corr' | 'cmd';

/** What the use cases need, passed in (no module singletons): the clock and id source are replaceable in tests. */
export interface ServiceDeps {
  orm: MikroORM;
  /** SQL and transactions on the ORM's pool, without its unit of work: what every hot path uses. */
  db: Database;
  validator: ContractValidator;
  mailbox: Mailbox;
  log: Logger;
  now: () => Date;
  newId: (prefix: IdPrefix) => string;
  /** Attempts of a command that meets a concurrent change before it answers 409. */
  commandMaxAttempts: number;
}

/** Who asked, for which tenant, and how the events it causes are correlated. */
export interface RequestContext {
  tenantId: string;
  /** From the request's correlation_id, or new. */
  correlationId: string;
  /** Id of this command: the causation_id of the events it causes, and a log field. */
  commandId: string;
}
