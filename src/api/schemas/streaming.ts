/** POST /v1/streaming/start|stop body: {"broker": <id>, "actor"?: <name>}. */
import { BROKER_IDS } from '../../brokers/registry.js';

export const CONTROL_BODY_SCHEMA = {
  type: 'object',
  'x-error': `the body must be a JSON object like {"broker":"${BROKER_IDS[0]}"}`,
  'x-unknown': 'unknown field {name}: the fields are broker and actor',
  additionalProperties: false,
  required: ['broker'],
  properties: {
    broker: { type: 'string', enum: [...BROKER_IDS], 'x-error': `unknown broker {json}: use one of ${BROKER_IDS.join(', ')}` },
    actor: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'actor name (default: the broker id)', 'x-error': 'actor must be 1-64 letters, digits or _.-' },
  },
} as const;
