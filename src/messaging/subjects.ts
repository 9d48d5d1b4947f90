/** The NATS names of docs/CONTRACT.md, in one place. A deployment prefix (NATS_SUBJECT_PREFIX) goes in front of all. */
import type { Operation } from '../contracts/event-types.js';

export const SERVICE_NAME = 'course_distribution';
export const OPS_TOKEN = 'ops';
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function withPrefix(prefix: string, subject: string): string {
  return prefix ? `${prefix}.${subject}` : subject;
}

/** `course_distribution.*.<operation>`: one endpoint serves every tenant; the tenant is the second token. */
export function commandEndpointSubject(prefix: string, operation: Operation): string {
  return withPrefix(prefix, `${SERVICE_NAME}.*.${operation}`);
}

export function commandSubject(prefix: string, tenantId: string, operation: string): string {
  return withPrefix(prefix, `${SERVICE_NAME}.${tenantId}.${operation}`);
}

/** Splits `[prefix.]course_distribution.<tenant>.<operation>`; undefined when the subject is not of that shape. */
export function parseCommandSubject(prefix: string, subject: string): { tenant: string; operation: string } | undefined {
  const root = withPrefix(prefix, `${SERVICE_NAME}.`);
  if (!subject.startsWith(root)) return undefined;
  const tokens = subject.slice(root.length).split('.');
  if (tokens.length !== 2) return undefined;
  return { tenant: tokens[0]!, operation: tokens[1]! };
}

/** A tenant id as docs/CONTRACT.md allows it: the pattern, and not the reserved `ops`. */
export function isValidTenantId(tenant: string): boolean {
  return TENANT_ID_PATTERN.test(tenant) && tenant !== OPS_TOKEN;
}
