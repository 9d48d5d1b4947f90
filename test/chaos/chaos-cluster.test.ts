import t from 'tap';
import { chaosProfile } from './chaos-profile.js';

t.setTimeout(240_000);
t.test(
  'when, on a three-node JetStream cluster with R3 streams, a stream leader, an instance and PostgreSQL fail under a seeded workload, then nothing is lost, duplicated, out of order, stuck or forged',
  (t) => chaosProfile(t, 'cluster'),
);
