import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { schemaDocuments, schemaIds, schemaNames, type SchemaName } from '../../generated/schemas.js';
import type { ContractTypes, ValidationIssue } from '../../generated/types.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export type { ValidationIssue };

/** Why a body was refused: too big (413), not JSON, not an object, or against its schema (all 400). */
export type RejectionKind = 'too_large' | 'not_json' | 'not_object' | 'schema';

export type Validated<T> = { ok: true; value: T } | { ok: false; kind: RejectionKind; issues: ValidationIssue[] };

export interface ContractValidatorOptions {
  /** Largest body `parse` accepts, in bytes. Default 64 KiB. */
  maxBytes?: number;
}

/**
 * Validates documents against the contract's JSON Schemas.
 * Every schema is compiled once, when the validator is created; validation itself never throws.
 */
export interface ContractValidator {
  /** Checks an already-decoded value against the named schema. */
  validate<N extends SchemaName>(name: N, data: unknown): Validated<ContractTypes[N]>;
  /** Type guard form of `validate`. */
  is<N extends SchemaName>(name: N, data: unknown): data is ContractTypes[N];
  /** Decodes raw bytes (size limit, UTF-8 JSON, must be an object) and validates them. `maxBytes` overrides the limit. */
  parse<N extends SchemaName>(name: N, body: Uint8Array | string, options?: { maxBytes?: number }): Validated<ContractTypes[N]>;
  readonly maxBytes: number;
}

export const DEFAULT_MAX_BYTES = 64 * 1024;

/** Creates the validator: one ajv instance holding every schema of the contract. */
export function createContractValidator(options: ContractValidatorOptions = {}): ContractValidator {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  for (const document of schemaDocuments) ajv.addSchema(structuredClone(document));

  const compiled = new Map<SchemaName, ValidateFunction>();
  for (const name of schemaNames) {
    const fn = ajv.getSchema(schemaIds[name]);
    if (!fn) throw new Error(`schema ${name} (${schemaIds[name]}) is not registered`);
    compiled.set(name, fn);
  }

  function validate<N extends SchemaName>(name: N, data: unknown): Validated<ContractTypes[N]> {
    const fn = compiled.get(name);
    if (!fn) return { ok: false, kind: 'schema', issues: [{ path: '', reason: `unknown schema ${name}` }] };
    if (fn(data)) return { ok: true, value: data as ContractTypes[N] };
    return { ok: false, kind: 'schema', issues: toIssues(fn.errors ?? []) };
  }

  function parse<N extends SchemaName>(name: N, body: Uint8Array | string, parseOptions: { maxBytes?: number } = {}): Validated<ContractTypes[N]> {
    const size = typeof body === 'string' ? new TextEncoder().encode(body).byteLength : body.byteLength;
    const limit = parseOptions.maxBytes ?? maxBytes;
    if (size > limit) {
      return { ok: false, kind: 'too_large', issues: [{ path: '', reason: `body is ${size} bytes, over the limit of ${limit}` }] };
    }
    let data: unknown;
    try {
      data = JSON.parse(typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch (err) {
      return { ok: false, kind: 'not_json', issues: [{ path: '', reason: `body is not valid JSON: ${(err as Error).message}` }] };
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      const found = data === null ? 'null' : Array.isArray(data) ? 'an array' : `a ${typeof data}`;
      return { ok: false, kind: 'not_object', issues: [{ path: '', reason: `body must be a JSON object, got ${found}` }] };
    }
    return validate(name, data);
  }

  return {
    validate,
    parse,
    is: <N extends SchemaName>(name: N, data: unknown): data is ContractTypes[N] => validate(name, data).ok,
    maxBytes,
  };
}

/** Turns ajv's errors into one readable line each: path + reason. */
export function toIssues(errors: readonly ErrorObject[]): ValidationIssue[] {
  const issues = errors
    // `if/then`, `anyOf` and `allOf` wrappers repeat what their branches already said.
    .filter((e) => e.keyword !== 'if' && e.keyword !== 'allOf')
    .map((e) => ({ path: e.instancePath, reason: describe(e) }));
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.reason}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required field "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown field "${String(params.additionalProperty)}"`;
    case 'unevaluatedProperties':
      return `unknown field "${String(params.unevaluatedProperty)}"`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return error.message ?? error.keyword;
  }
}

/** Formats issues for a log line or an error message: `/payload/slug: must match pattern ...; ...`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.reason}`).join('; ');
}
