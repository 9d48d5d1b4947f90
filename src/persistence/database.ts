/**
 * SQL on MikroORM's own connection pool, without the per-transaction cost of its unit of work.
 * MikroORM stays what defines the schema (entities), migrates it and owns the pool; the hot paths (every command,
 * consumed event, counter flush and read) run their statements here. Measured on this machine, 32 at a time, three
 * trivial statements per transaction: `em.fork().transactional()` + `em.execute` ran at 0.32 of raw `pg`, BEGIN /
 * COMMIT sent on a connection taken from the same pool at 1.05 (bench/orm-overhead.ts prints both).
 *
 * Statements use `?` placeholders, as `em.execute` does; they are sent as bind parameters ($1, $2, ...), never
 * interpolated. Errors are pg's own (SQLSTATE in `code`), which the failure policy classifies.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { CommitOutcomeUnknownError } from '../errors.js';
import { isConnectionLost } from '../failure-policy.js';

/** One statement at a time, on a transaction's connection or on any pooled one. */
export interface Sql {
  /** The rows of the statement. */
  execute<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Database extends Sql {
  /**
   * Runs `work` in one transaction on one pooled connection: BEGIN, the work, COMMIT; ROLLBACK when it throws (the
   * error is rethrown as it was). A connection that broke meanwhile is discarded by the pool, not reused. When the
   * COMMIT itself loses the connection, the outcome is unknown: CommitOutcomeUnknownError (its cause the driver's
   * error); a COMMIT refused by the server (e.g. a deferred constraint) rolled back and rethrows as it was.
   * With `lockTimeoutMs`, no statement of the transaction waits longer than that for a lock (`lock_timeout`, set in
   * the same round trip as BEGIN): a row held longer fails the statement with 55P03.
   */
  transaction<T>(work: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs one statement as its own transaction (autocommit: one round trip instead of three). Like `transaction`, a
   * connection lost while it runs leaves the outcome unknown: CommitOutcomeUnknownError; a connection that cannot be
   * had fails as it is (nothing was sent).
   */
  statement<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface TransactionOptions {
  lockTimeoutMs?: number;
}

/** The part of knex's client this needs: its pool and its `?` -> `$n` placeholder rewriting. */
interface KnexClient {
  acquireConnection(): Promise<pg.ClientBase>;
  releaseConnection(connection: pg.ClientBase): Promise<unknown>;
  positionBindings(sql: string): string;
}

export function createDatabase(orm: MikroORM): Database {
  const client = orm.em.getConnection().getKnex().client as unknown as KnexClient;
  /** Statements are rewritten once each: the hot paths send the same few texts over and over. */
  const rewritten = new Map<string, string>();
  const text = (sql: string): string => {
    let positional = rewritten.get(sql);
    if (positional === undefined) {
      positional = client.positionBindings(sql);
      if (rewritten.size < 1000) rewritten.set(sql, positional);
    }
    return positional;
  };
  const on =
    (connection: pg.ClientBase): Sql['execute'] =>
    async <Row>(sql: string, params: readonly unknown[] = []) =>
      (await connection.query(text(sql), params as unknown[])).rows as Row[];

  async function withConnection<T>(use: (connection: pg.ClientBase) => Promise<T>): Promise<T> {
    const connection = await client.acquireConnection();
    try {
      return await use(connection);
    } finally {
      await client.releaseConnection(connection);
    }
  }

  return {
    execute: (sql, params) => withConnection((connection) => on(connection)(sql, params)),
    statement: <Row>(sql: string, params?: readonly unknown[]) =>
      withConnection(async (connection) => {
        try {
          return await on(connection)<Row>(sql, params);
        } catch (err) {
          throw isConnectionLost(err) ? new CommitOutcomeUnknownError({ cause: err }) : err;
        }
      }),
    transaction: (work, options = {}) =>
      withConnection(async (connection) => {
        const lockTimeout = options.lockTimeoutMs === undefined ? '' : `; set local lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs))}`;
        await connection.query(`begin${lockTimeout}`);
        let result: Awaited<ReturnType<typeof work>>;
        try {
          result = await work({ execute: on(connection) });
        } catch (err) {
          await connection.query('rollback').catch(() => undefined);
          throw err;
        }
        try {
          await connection.query('commit');
        } catch (err) {
          await connection.query('rollback').catch(() => undefined);
          throw isConnectionLost(err) ? new CommitOutcomeUnknownError({ cause: err }) : err;
        }
        return result;
      }),
  };
}
