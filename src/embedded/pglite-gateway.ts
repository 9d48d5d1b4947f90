/**
 * A PostgreSQL wire-protocol front for one in-process PGlite, on a loopback TCP port: the service's ordinary `pg`
 * connections (the knex pool, the migration lock, the relay session) reach the embedded database unchanged.
 *
 * Why not `@electric-sql/pglite-socket`: its 0.2.x server queues single protocol *messages* and keeps a connection's
 * turn only while a transaction is open, so two connections' Parse/Bind/Execute/Sync batches interleave on PGlite's
 * one session (a parameterised query then binds another connection's statement), and one failed message leaves its
 * queue stuck for good (electric-sql/pglite#1046, still open).
 *
 * Contract
 * - PGlite has one session. A connection gets a *turn* with its first message and keeps it until the database
 *   answers ReadyForQuery with status `I` (idle): an extended-protocol batch up to its Sync, and a whole
 *   transaction up to COMMIT/ROLLBACK, run without any other connection's messages in between. Other
 *   connections wait, in arrival order.
 * - Hence one limit: code that holds a transaction open on one connection while it waits for a query on another
 *   never finishes (the second waits for the first's turn). A wait longer than `slowTurnWarnMs` is logged.
 * - A connection that closes during its turn has its transaction rolled back, then the next one goes.
 * - Session state is shared by every connection (SET, advisory locks: a lock never blocks another connection).
 * - NOTIFY: PGlite returns a commit's notifications to the committing connection; they are also sent to every other
 *   connection, so a LISTENing client (the outbox relay) hears them. A client that does not listen ignores them.
 * - SSL and GSS encryption requests are declined (`N`); cancel requests are ignored.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';

/** The part of PGlite the gateway needs. */
export interface ProtocolSession {
  execProtocolRaw(message: Uint8Array): Promise<Uint8Array>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export interface PgliteGateway {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends every connection (rolling back a transaction in progress). Safe to call twice. */
  close(): Promise<void>;
}

export interface PgliteGatewayOptions {
  log: Logger;
  /** 0 (the default) = a free port chosen by the OS. */
  port?: number;
  /** A connection waiting longer than this for its turn is logged (once per wait). */
  slowTurnWarnMs?: number;
}

const SSL_REQUEST = 80877103;
const GSS_ENCRYPTION_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);
const TERMINATE = 0x58;
const NOTIFICATION = 0x41;
const READY_FOR_QUERY = 0x5a;

/** A simple-protocol Query message. */
function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51;
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/** The transaction status of the last ReadyForQuery in `response` (`I`, `T`, `E`), or undefined when there is none. */
export function readyStatus(response: Uint8Array): string | undefined {
  const n = response.length;
  if (n < 6 || response[n - 6] !== READY_FOR_QUERY || response[n - 5] !== 0 || response[n - 4] !== 0 || response[n - 3] !== 0 || response[n - 2] !== 5) {
    return undefined;
  }
  return String.fromCharCode(response[n - 1]!);
}

/** The NotificationResponse messages of a response (backend messages: type byte, then an int32 length). */
function notificationsIn(response: Uint8Array): Buffer[] {
  const buffer = Buffer.from(response.buffer, response.byteOffset, response.byteLength);
  const found: Buffer[] = [];
  for (let at = 0; at + 5 <= buffer.length;) {
    const end = at + 1 + buffer.readInt32BE(at + 1);
    if (buffer[at] === NOTIFICATION) found.push(Buffer.from(buffer.subarray(at, end)));
    at = end;
  }
  return found;
}

/** Who has the session's turn, and who waits for it (FIFO). */
function createTurns(log: Logger, slowTurnWarnMs: number) {
  let owner: number | undefined;
  const waiting: { id: number; grant: () => void }[] = [];
  return {
    get owner() {
      return owner;
    },
    async take(id: number): Promise<void> {
      if (owner === id) return;
      if (owner === undefined) {
        owner = id;
        return;
      }
      const since = Date.now();
      const warn = setTimeout(
        () =>
          log.warn(
            { connection: id, holder: owner, waited_ms: Date.now() - since },
            'embedded database: a connection waits for another one to end its transaction (PGlite has one session; a transaction that waits for a second connection never ends)',
          ),
        slowTurnWarnMs,
      );
      await new Promise<void>((grant) => waiting.push({ id, grant }));
      clearTimeout(warn);
    },
    give(id: number): void {
      if (owner !== id) return;
      const next = waiting.shift();
      owner = next?.id;
      next?.grant();
    },
    /** Forgets a connection that closed while waiting. */
    leave(id: number): void {
      const at = waiting.findIndex((w) => w.id === id);
      if (at >= 0) waiting.splice(at, 1);
    },
  };
}

export async function startPgliteGateway(db: ProtocolSession, options: PgliteGatewayOptions): Promise<PgliteGateway> {
  const { log } = options;
  const turns = createTurns(log, options.slowTurnWarnMs ?? 10_000);
  const sockets = new Map<number, Socket>();
  /** Turns of closed connections being ended; close() waits for them before the database may be closed. */
  const abandoning = new Set<Promise<void>>();
  let nextId = 1;
  let closing: Promise<void> | undefined;

  const exec = (message: Uint8Array) => db.runExclusive(() => db.execProtocolRaw(message));

  /** Ends `id`'s turn after it went away: the batch is synced and an open transaction rolled back. */
  async function abandonTurn(id: number): Promise<void> {
    turns.leave(id);
    if (turns.owner !== id) return;
    try {
      let status = readyStatus(await exec(SYNC));
      if (status !== 'I') status = readyStatus(await exec(queryMessage('rollback')));
      if (status !== 'I') log.error({ connection: id, status }, 'embedded database: could not end the transaction of a closed connection');
    } catch (err) {
      log.error({ err, connection: id }, 'embedded database: ending the turn of a closed connection failed');
    } finally {
      turns.give(id);
    }
  }

  function serve(socket: Socket): void {
    const id = nextId++;
    sockets.set(id, socket);
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let started = false;
    const pending: Buffer[] = [];
    let working = false;
    let ended = false;

    const end = () => {
      if (ended) return;
      ended = true;
      pending.length = 0;
      sockets.delete(id);
      socket.destroy();
      const abandoned = abandonTurn(id);
      abandoning.add(abandoned);
      void abandoned.finally(() => abandoning.delete(abandoned));
    };

    async function work(): Promise<void> {
      if (working) return;
      working = true;
      try {
        for (let message = pending.shift(); message && !ended; message = pending.shift()) {
          await turns.take(id);
          if (ended) return;
          const response = await exec(message);
          if (response.length > 0 && !socket.destroyed) socket.write(response);
          for (const notification of notificationsIn(response)) {
            for (const [other, otherSocket] of sockets) if (other !== id && !otherSocket.destroyed) otherSocket.write(notification);
          }
          if (readyStatus(response) === 'I') turns.give(id);
        }
      } catch (err) {
        log.error({ err, connection: id }, 'embedded database: a protocol message failed; closing its connection');
        end();
      } finally {
        working = false;
      }
    }

    /** Splits the bytes received into whole messages; answers what needs no database. */
    function receive(chunk: Buffer): void {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (!ended) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (length < 8) return end(); // not the PostgreSQL protocol
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          const message = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          if (code === SSL_REQUEST || code === GSS_ENCRYPTION_REQUEST) socket.write('N');
          else if (code === CANCEL_REQUEST) end();
          else {
            started = true;
            pending.push(Buffer.from(message));
          }
          continue;
        }
        if (buffer.length < 5) return;
        const length = 1 + buffer.readInt32BE(1);
        if (length < 5) return end(); // a length below its own 4 bytes: not the PostgreSQL protocol
        if (buffer.length < length) return;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (message[0] === TERMINATE) {
          end();
          return;
        }
        pending.push(Buffer.from(message));
      }
    }

    socket.on('data', (chunk: Buffer) => {
      receive(chunk);
      void work();
    });
    socket.on('error', end);
    socket.on('close', end);
  }

  const server: Server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets.values()) socket.destroy();
        await closed;
        await Promise.all(abandoning);
      })();
      return closing;
    },
  };
}
