import { ConfigError } from '../../shared/index.js';

/** Queries and migrations name tables as `{{schema}}.table`; the schema is bound once. */
export const SCHEMA_PLACEHOLDER = '{{schema}}';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new ConfigError(`invalid schema name '${schema}': use lower-case letters, digits and _`);
  }
  return schema;
}

export function bindSchema(text: string, schema: string): string {
  return text.replaceAll(SCHEMA_PLACEHOLDER, assertSchemaName(schema));
}

/** Binds every query of a query module. */
export function bindQueries<T extends Record<string, string>>(queries: T, schema: string): T {
  const bound: Record<string, string> = {};
  for (const [name, text] of Object.entries(queries)) bound[name] = bindSchema(text, schema);
  return bound as T;
}
