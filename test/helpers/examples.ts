/** Reads the example documents in schemas/examples/<schema name>.json. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface NamedExample {
  name: string;
  data: unknown;
}

export interface ExampleFile {
  valid: NamedExample[];
  invalid: NamedExample[];
}

export const EXAMPLES_DIR = resolve(import.meta.dirname, '../../schemas/examples');

export function examplePath(schemaName: string): string {
  return join(EXAMPLES_DIR, `${schemaName}.json`);
}

export function hasExamples(schemaName: string): boolean {
  return existsSync(examplePath(schemaName));
}

export function readExamples(schemaName: string): ExampleFile {
  return JSON.parse(readFileSync(examplePath(schemaName), 'utf8')) as ExampleFile;
}

/** The catalogue's own example of an event: by convention the first valid example of its file. */
export function catalogueExample(eventType: string): Record<string, unknown> {
  const first = readExamples(eventType).valid[0];
  if (!first || first.name !== "the catalogue's example") {
    throw new Error(`schemas/examples/${eventType}.json must start with the catalogue's example`);
  }
  return structuredClone(first.data) as Record<string, unknown>;
}
