import { describe, expect, it } from 'vitest';
import { durationMs, intFlag, parseArgs } from '../../src/cli/args.js';
import { ConfigError } from '../../src/core/errors.js';

const KNOWN = ['help', 'broker', 'since', 'once', 'json', 'all-accounts'];
const parse = (...argv: string[]) => parseArgs(argv, 'timeline', KNOWN);

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('parseArgs (node:util parseArgs underneath)', () => {
  it('reads --key=value, --key value, --flag and --no-flag', () => {
    expect(parse('--broker=sim', '--since', '2h', '--once', '--no-all-accounts')).toEqual({ broker: 'sim', since: '2h', once: true, 'all-accounts': false });
  });

  it('a value flag without a value is true, so the command can say what it needs', () => {
    expect(parse('--broker')).toEqual({ broker: true });
    expect(parse('--broker', '--once')).toEqual({ broker: true, once: true });
    expect(parse('--json', '--since=1h', '--broker', 'x')).toEqual({ json: true, since: '1h', broker: 'x' });
  });

  it('keeps an empty value, a value with = inside and the last of a repeated flag', () => {
    expect(parse('--broker=', '--since=a=b')).toEqual({ broker: '', since: 'a=b' });
    expect(parse('--broker=a', '--broker=b')).toEqual({ broker: 'b' });
  });

  it('a boolean flag never takes the next word as its value', () => {
    expect(errorOf(() => parse('--once', 'now')).message).toBe('unexpected argument "now": see npm run timeline -- --help');
  });

  it.each([
    [['--nope'], 'unknown flag --nope: see npm run timeline -- --help'],
    [['--nope=1'], 'unknown flag --nope: see npm run timeline -- --help'],
    [['--no-nope'], 'unknown flag --no-nope: see npm run timeline -- --help'],
    [['stray'], 'unexpected argument "stray": see npm run timeline -- --help'],
    [['-h'], 'unexpected argument "-h": see npm run timeline -- --help'],
    [['--', 'x'], 'unknown flag --: see npm run timeline -- --help'],
  ])('%j is a one-line ConfigError naming it and --help', (argv, message) => {
    const err = errorOf(() => parse(...argv));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(message);
  });

  it('takes explicit types for new commands', () => {
    expect(parseArgs(['--json', 'out.json', '--quick'], 'bench', { json: 'string', quick: 'boolean' })).toEqual({ json: 'out.json', quick: true });
    expect(parseArgs(['--json'], 'x', { json: 'boolean' })).toEqual({ json: true });
  });
});

describe('flag values', () => {
  it('durations in seconds or with a unit', () => {
    expect(durationMs({ d: '90' }, 'd', undefined)).toBe(90_000);
    expect(durationMs({ d: '500ms' }, 'd', undefined)).toBe(500);
    expect(durationMs({}, 'd', 7)).toBe(7);
    expect(() => durationMs({ d: 'soon' }, 'd', 1)).toThrow(/--d=soon is not a duration/);
  });

  it('whole numbers in a range', () => {
    expect(intFlag({ port: '0' }, 'port', 1, 0, 65535)).toBe(0);
    expect(() => intFlag({ port: 'http' }, 'port', 1, 0, 65535)).toThrow('--port=http is not valid: use a whole number from 0 to 65535');
  });
});
