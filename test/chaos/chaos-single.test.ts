import t from 'tap';
import { chaosProfile } from './chaos-profile.js';

t.setTimeout(240_000);
t.test(
  'when two instances, nats-server and PostgreSQL are killed, frozen and crashed under a seeded workload, then nothing is lost, duplicated, out of order, stuck or forged',
  (t) => chaosProfile(t, 'single'),
);
