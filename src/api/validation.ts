/**
 * Request validation: fastify JSON schemas (the same schemas @fastify/swagger turns into
 * /openapi.json), compiled by two Ajv instances and reported as one-line messages.
 *
 * - Query strings coerce scalars (limit=5 → 5) but never arrays, so a repeated name stays an
 *   array and is reported as given more than once. Bodies are JSON and never coerced
 *   ({"quantity": "2"} is a 400, not 2).
 * - Nothing is removed silently (removeAdditional: false): an unknown name is a 400.
 * - Messages come from the schema: `x-error` on a property (placeholders {name}, {value} =
 *   the value as text, {json} = as JSON) and `x-unknown` on the object ({name}, {names}).
 *   Without them ajv's own message is used, prefixed with the field name.
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { badRequest } from './errors.js';

// ajv is CommonJS with a default export; under NodeNext ESM the class is on .default.
const Ajv = AjvModule.default;
const common = { removeAdditional: false, useDefaults: false, allErrors: false, verbose: true, keywords: ['x-error', 'x-unknown', 'example'] };
const queryAjv = new Ajv({ ...common, coerceTypes: true });
const bodyAjv = new Ajv({ ...common, coerceTypes: false, allowUnionTypes: true });

export type HttpPart = 'body' | 'querystring' | 'params' | 'headers';

/** fastify's validatorCompiler: bodies with bodyAjv, everything else with queryAjv. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;

export const unknownParameter = (name: string, allowed: readonly string[]) => `unknown parameter ${name}: use ${allowed.join(', ')}`;
export const repeatedParameter = (name: string) => `parameter ${name} is given more than once: give it once (comma lists where supported)`;

type SchemaNode = { 'x-error'?: string; 'x-unknown'?: string; properties?: Record<string, SchemaNode>; type?: string | string[] };

function fill(template: string, name: string, data: unknown, names = ''): string {
  return template
    .replaceAll('{name}', name)
    .replaceAll('{names}', names)
    .replaceAll('{value}', String(data))
    .replaceAll('{json}', JSON.stringify(data ?? null));
}

/** The first Ajv error of a request part → the one-line message the API answers with. */
export function messageFor(errors: readonly ErrorObject[], part: string): string {
  const e = errors[0];
  if (!e) return `the ${part} is not valid`;
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const field = e.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
  if (e.keyword === 'additionalProperties') {
    const name = String(e.params.additionalProperty);
    const names = Object.keys(parent.properties ?? {});
    if (parent['x-unknown']) return fill(parent['x-unknown'], name, undefined, names.join(', '));
    return part === 'querystring' ? unknownParameter(name, names) : `unknown field ${name}: the fields are ${names.join(', ')}`;
  }
  if (e.keyword === 'required') {
    const name = String(e.params.missingProperty);
    const template = parent.properties?.[name]?.['x-error'];
    return template ? fill(template, name, undefined) : `${name} is required`;
  }
  if (part === 'querystring' && Array.isArray(e.data) && e.keyword === 'type') return repeatedParameter(field);
  if (parent['x-error']) return fill(parent['x-error'], field, e.data);
  return `${field || `the ${part}`} ${e.message ?? 'is not valid'}`;
}

/** fastify's schemaErrorFormatter: the message becomes the 400's {"error": ...}. */
export function schemaErrorFormatter(errors: readonly ErrorObject[], dataVar: string): Error {
  return badRequest(messageFor(errors, dataVar));
}

/** The same check outside a route (pure callers such as parseTradeBody): throws a 400 HttpError. */
export function validator(schema: object, part: HttpPart): (data: unknown) => void {
  let compiled: ValidateFunction | undefined;
  return (data) => {
    const check = (compiled ??= (part === 'body' ? bodyAjv : queryAjv).compile(schema));
    if (!check(data)) throw badRequest(messageFor(check.errors ?? [], part));
  };
}

/** A free-text query parameter: printable (no NUL or other control characters), bounded. */
export const textParam = (description: string, maxLength = 256) => ({
  type: 'string', description, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$',
  'x-error': `{name} must be printable text of at most ${maxLength} characters`,
});

/** A querystring object schema: only these names, each at most once. */
export const querySchema = (properties: Record<string, object>) => ({ type: 'object', additionalProperties: false, properties });
