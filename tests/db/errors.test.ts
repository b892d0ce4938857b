import { describe, expect, it } from 'vitest';
import { StorageError, isLostConnection, isMissingPartition, isRetryableCode, isRetryableError, isRowRejection, toStorageError } from '../../src/db/errors.js';

const withCode = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('isRetryableError', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'CONNECTION_ENDED', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT'])('retries connection failure %s', (code) => {
    expect(isRetryableError(withCode(code))).toBe(true);
  });

  it.each(['08006', '08001', '57P01', '57P02', '57P03', '40001', '40P01', '53100', '53300', '25006', '57014', '55P03', '42501', '58030', 'QUERY_TIMEOUT'])('retries SQLSTATE %s', (code) => {
    expect(isRetryableError(withCode(code))).toBe(true);
  });

  it.each(['22P02', '22003', '23505', '23502', '23514', '42P01', '42601'])('does not retry SQLSTATE %s (the statement or data is wrong)', (code) => {
    expect(isRetryableError(withCode(code))).toBe(false);
  });

  it('does not retry errors without a code', () => {
    expect(isRetryableError(new Error('mystery'))).toBe(false);
    expect(isRetryableError('a string')).toBe(false);
    expect(isRetryableCode(undefined)).toBe(false);
  });

  it('retries an AggregateError when one of its causes is retryable (multi-address connect)', () => {
    expect(isRetryableError(new AggregateError([withCode('ECONNREFUSED'), withCode('ENOTFOUND')]))).toBe(true);
  });

  it('trusts the flag of an existing StorageError', () => {
    expect(isRetryableError(new StorageError('x', true))).toBe(true);
    expect(isRetryableError(new StorageError('x', false, 'ECONNRESET'))).toBe(false);
  });
});

describe('isRowRejection: only a row the database refuses for its own content is given up on', () => {
  it.each(['22P02', '22003', '22001', '23502', '23514', 'INVALID_ROW'])('%s names the row', (code) => {
    expect(isRowRejection(withCode(code))).toBe(true);
    expect(isRowRejection(new StorageError('x', false, code))).toBe(true);
  });

  it.each(['25006', '57014', '55P03', '57P01', '57P02', '57P03', '53300', '42501', '42P01', '08006', 'ECONNREFUSED', 'QUERY_TIMEOUT'])('%s is curable later: never a rejection', (code) => {
    expect(isRowRejection(withCode(code))).toBe(false);
  });

  it('an error without a code (a bug, an unknown failure) is retried, not dropped', () => {
    expect(isRowRejection(new Error('mystery'))).toBe(false);
    expect(isRowRejection(new StorageError('x', true, '22003'))).toBe(false);
  });
});

describe('toStorageError', () => {
  it('keeps the code, classifies, and names the operation in one line', () => {
    const err = toStorageError(withCode('57P01', 'terminating connection\ndue to administrator command'), 'writeSnapshots');
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ retryable: true, code: '57P01' });
    expect(err.message).toBe('writeSnapshots failed (57P01): terminating connection due to administrator command');
  });

  it('never carries a password from a driver message', () => {
    const err = toStorageError(withCode('ECONNREFUSED', 'connect to postgres://app:s3cret@db:5432/x failed'), 'query');
    expect(err.message).not.toContain('s3cret');
  });

  it('passes a StorageError through unchanged', () => {
    const orig = new StorageError('x', false, 'INVALID_ROW');
    expect(toStorageError(orig, 'y')).toBe(orig);
  });
});

describe('error shapes storage reacts to', () => {
  it('recognises the missing-partition error', () => {
    expect(isMissingPartition(withCode('23514', 'no partition of relation "greek_snapshots" found for row'))).toBe(true);
    expect(isMissingPartition(withCode('23514', 'new row violates check constraint "trades_side_check"'))).toBe(false);
  });

  it('treats a killed or reset connection as lost, but not a refused one', () => {
    expect(isLostConnection(withCode('ECONNRESET'))).toBe(true);
    expect(isLostConnection(withCode('57P01'))).toBe(true);
    expect(isLostConnection(withCode('ECONNREFUSED'))).toBe(false);
    expect(isLostConnection(withCode('23505'))).toBe(false);
  });
});
