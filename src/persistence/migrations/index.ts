import { Migration20261127100000Initial } from './Migration20261127100000Initial.js';

/** Every migration, in order. Listed here (not globbed from disk) so tsx, dist and bundles all find them. */
export const migrationsList = [{ name: 'Migration20261127100000Initial', class: Migration20261127100000Initial }];
