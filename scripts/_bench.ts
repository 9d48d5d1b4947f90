import { connect } from '@nats-io/transport-node';
const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
const prefix = process.argv[2]!;
const n = 300, conc = 16;
let i = 0, fails = 0;
const t0 = Date.now();
await Promise.all(Array.from({ length: conc }, async () => {
  while (i < n) { const k = i++; const r = await nc.request(`${prefix}.course_distribution.brain_prod.create`, JSON.stringify({ course_id: 'c' + k, title: 'Bench ' + k + ' ' + Date.now(), language: 'de' }), { timeout: 20000 }); if (r.headers?.get('Nats-Service-Error-Code')) fails++; }
}));
const dt = Date.now() - t0;
const views = Date.now();
console.log(JSON.stringify({ creates: n, ms: dt, per_s: Math.round(n / dt * 1000), fails }));
await nc.close();
