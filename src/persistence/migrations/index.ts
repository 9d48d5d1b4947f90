import { Migration20261127100000Initial } from './Migration20261127100000Initial.js';
import { Migration20261127110000OutboxNotify } from './Migration20261127110000OutboxNotify.js';
import { Migration20261127120000Inbox } from './Migration20261127120000Inbox.js';
import { Migration20261201100000OutboxOrder } from './Migration20261201100000OutboxOrder.js';
import { Migration20261201110000DeadLetterRetention } from './Migration20261201110000DeadLetterRetention.js';
import { Migration20261201120000OutboxParked } from './Migration20261201120000OutboxParked.js';
import { Migration20261208100000CounterPending } from './Migration20261208100000CounterPending.js';
import { Migration20261208110000CourseGeneration } from './Migration20261208110000CourseGeneration.js';
import { Migration20261208120000CourseStagingAfterLock } from './Migration20261208120000CourseStagingAfterLock.js';
import { Migration20261208130000DeadLetterOnce } from './Migration20261208130000DeadLetterOnce.js';
import { Migration20261208140000CourseRootIndex } from './Migration20261208140000CourseRootIndex.js';

/** Every migration, in order. Listed here (not globbed from disk) so tsx, dist and bundles all find them. */
export const migrationsList = [
  { name: 'Migration20261127100000Initial', class: Migration20261127100000Initial },
  { name: 'Migration20261127110000OutboxNotify', class: Migration20261127110000OutboxNotify },
  { name: 'Migration20261127120000Inbox', class: Migration20261127120000Inbox },
  { name: 'Migration20261201100000OutboxOrder', class: Migration20261201100000OutboxOrder },
  { name: 'Migration20261201110000DeadLetterRetention', class: Migration20261201110000DeadLetterRetention },
  { name: 'Migration20261201120000OutboxParked', class: Migration20261201120000OutboxParked },
  { name: 'Migration20261208100000CounterPending', class: Migration20261208100000CounterPending },
  { name: 'Migration20261208110000CourseGeneration', class: Migration20261208110000CourseGeneration },
  { name: 'Migration20261208120000CourseStagingAfterLock', class: Migration20261208120000CourseStagingAfterLock },
  { name: 'Migration20261208130000DeadLetterOnce', class: Migration20261208130000DeadLetterOnce },
  { name: 'Migration20261208140000CourseRootIndex', class: Migration20261208140000CourseRootIndex },
];
