/**
 * The embedded database's wire-protocol gateway (src/embedded/pglite-gateway.ts) over one in-memory PGlite, with
 * the `pg` driver the service uses: several connections share PGlite's one session without seeing each other's
 * statements or transactions.
 */
import { PGlite } from '@electric-sql/pglite';
import { connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import t from 'tap';
import { startPgliteGateway } from '../../src/embedded/pglite-gateway.js';

const db = await PGlite.create('memory://');
const gateway = await startPgliteGateway(db, { log: pino({ level: 'silent' }) });
t.teardown(async () => {
  await gateway.close();
  await db.close();
});

async function client(t: { teardown(fn: () => unknown): void }): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: gateway.url });
  c.on('error', () => undefined);
  await c.connect();
  t.teardown(() => c.end().catch(() => undefined));
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('when two connections send parameterised queries at the same time, then each gets the rows of its own statement', async (t) => {
  const [a, b] = [await client(t), await client(t)];
  const run = async (c: pg.Client, name: string) => {
    const wrong: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      const { rows } = await c.query<{ n: number; who: string }>('select $1::int * 2 as n, $2::text as who', [i, name]);
      if (rows[0]?.n !== i * 2 || rows[0]?.who !== name) wrong.push(rows[0]);
    }
    return wrong;
  };
  const [wrongA, wrongB] = await Promise.all([run(a, 'a'), run(b, 'b')]);
  t.same([...wrongA, ...wrongB], [], 'no connection got a row of the other one');
});

t.test('when a connection is in a transaction, then another one waits for its end and sees what it committed', async (t) => {
  const [a, b] = [await client(t), await client(t)];
  await a.query('create table waiting (id int primary key)');
  await a.query('begin');
  await a.query('insert into waiting values ($1)', [1]);
  let seen: string | undefined;
  const read = b.query<{ count: string }>('select count(*) from waiting').then((r) => (seen = r.rows[0]?.count));
  await sleep(300);
  t.equal(seen, undefined, 'the other connection is not served inside the open transaction');
  await a.query('commit');
  await read;
  t.equal(seen, '1', 'and then reads the committed row');
});

t.test('when a connection closes in the middle of a transaction, then its work is rolled back and the others go on', async (t) => {
  const [a, b] = [await client(t), await client(t)];
  await b.query('create table abandoned (id int primary key)');
  await a.query('begin');
  await a.query('insert into abandoned values ($1)', [1]);
  const read = b.query<{ count: string }>('select count(*) from abandoned');
  await a.end();
  t.equal((await read).rows[0]?.count, '0', 'the insert of the closed connection is gone');
  const { rows } = await b.query<{ status: string }>('select 1 as status');
  t.equal(rows.length, 1, 'and the session serves the next statement');
});

t.test('when a transaction commits a notification, then another connection that listens hears it', async (t) => {
  const [writer, listener] = [await client(t), await client(t)];
  const heard: string[] = [];
  listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload ?? ''}`));
  await listener.query('listen gateway_test');
  await writer.query('begin');
  await writer.query(`select pg_notify('gateway_test', 'hello')`);
  await writer.query('commit');
  for (let i = 0; i < 40 && heard.length === 0; i++) await sleep(25);
  t.same(heard, ['gateway_test:hello']);
});

t.test('when a statement fails, then its connection and the others keep working', async (t) => {
  const [a, b] = [await client(t), await client(t)];
  await t.rejects(a.query('select * from no_such_table where id = $1', [1]), { code: '42P01' }, 'the error is PostgreSQL’s, with its SQLSTATE');
  const [ra, rb] = await Promise.all([a.query('select $1::int as v', [7]), b.query('select $1::int as v', [8])]);
  t.same([ra.rows[0], rb.rows[0]], [{ v: 7 }, { v: 8 }]);
});

t.test('when a client sends bytes that are not the PostgreSQL protocol, then its connection is closed and the others go on', async (t) => {
  const other = await client(t);
  const closed = await new Promise<boolean>((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port: gateway.port }, () => socket.write(Buffer.from([0, 0, 0, 2, 0, 0, 0, 0])));
    socket.once('close', () => resolve(true));
    socket.once('error', () => undefined);
    setTimeout(() => resolve(false), 5000);
  });
  t.equal(closed, true, 'the gateway ends that connection');
  t.same((await other.query('select $1::int as v', [1])).rows, [{ v: 1 }], 'and still serves the others');
});
