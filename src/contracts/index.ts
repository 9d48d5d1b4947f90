/**
 * The contract of course-distribution, as shipped in the schema package: JSON Schemas, generated types,
 * and the validators built from them.
 */
export {
  createContractValidator,
  formatIssues,
  toIssues,
  DEFAULT_MAX_BYTES,
  type ContractValidator,
  type ContractValidatorOptions,
  type RejectionKind,
  type Validated,
  type ValidationIssue,
} from './validator.js';
export { schemaDocuments, schemaIds, schemaNames, type SchemaName } from '../../generated/schemas.js';
export type * from '../../generated/types.js';
export * from './event-types.js';
