import { describe, expect, it } from 'vitest';
import { parseIv, parsePrice, parseGreek, smdCommand } from '../../src/brokers/ibkr/cpapi/fields.js';
import { ConidFieldCache, greeksSeq } from '../../src/brokers/ibkr/cpapi/fieldCache.js';
import { parseInbound } from '../../src/brokers/ibkr/cpapi/wire.js';

describe('cpapi field parsing', () => {
  it('reads IV with a percent sign as a fraction', () => {
    expect(parseIv('24.5%')).toBeCloseTo(0.245, 12);
    expect(parseIv(' 8.1 %')).toBeCloseTo(0.081, 12);
  });
  it('reads a bare IV above 3 as percent and at or below 3 as a fraction', () => {
    expect(parseIv('24.5')).toBeCloseTo(0.245, 12);
    expect(parseIv(31)).toBeCloseTo(0.31, 12);
    expect(parseIv('0.245')).toBeCloseTo(0.245, 12);
    expect(parseIv(1.2)).toBeCloseTo(1.2, 12);
  });
  it('treats unreadable or negative IV as unknown', () => {
    expect(parseIv('')).toBeNull();
    expect(parseIv('N/A')).toBeNull();
    expect(parseIv('-5%')).toBeNull();
    expect(parseIv(undefined)).toBeNull();
  });
  it('strips the C/H prefix and thousands separators from prices', () => {
    expect(parsePrice('C171.02')).toBe(171.02);
    expect(parsePrice('H5.5')).toBe(5.5);
    expect(parsePrice('1,234.50')).toBe(1234.5);
    expect(parsePrice(12)).toBe(12);
    expect(parsePrice('abc')).toBeNull();
  });
  it('reads greeks from strings and numbers, never NaN', () => {
    expect(parseGreek('-0.0912')).toBe(-0.0912);
    expect(parseGreek(0.5)).toBe(0.5);
    expect(parseGreek('1.2E-3')).toBe(0.0012);
    expect(parseGreek('NaN')).toBeNull();
  });
  it('renders smd subscriptions as the gateway expects', () => {
    expect(smdCommand(123, ['31', '7308'])).toBe('smd+123+{"fields":["31","7308"]}');
  });
});

describe('cpapi field merge', () => {
  it('carries unchanged greeks over from earlier frames', () => {
    const c = new ConidFieldCache();
    c.merge({ '7308': '0.52', '7309': '0.011', '7310': '-0.09', '7311': '0.4', '7633': '21%' }, 1000);
    const r = c.merge({ '7308': '0.53' }, 2000);
    expect(r.greeks).toEqual({ '7633': 0.21, '7308': 0.53, '7309': 0.011, '7310': -0.09, '7311': 0.4 });
  });
  it('reports no greeks for a frame with prices only, and nothing for an empty frame', () => {
    const c = new ConidFieldCache();
    expect(c.merge({}, 1000)).toMatchObject({ greeks: null, pricesChanged: false });
    const r = c.merge({ '84': '1.10', '86': '1.20' }, 1100);
    expect(r.greeks).toBeNull();
    expect(r.pricesChanged).toBe(true);
    expect(c.value('84')).toBe(1.1);
  });
  it('skips unreadable values instead of overwriting known ones', () => {
    const c = new ConidFieldCache();
    c.merge({ '7308': '0.5' }, 1000);
    const r = c.merge({ '7308': '', '7309': '0.02' }, 2000);
    expect(r.greeks!['7308']).toBe(0.5);
  });
  it('never lets a late frame overwrite newer values, and completes it with the greeks of its time', () => {
    const c = new ConidFieldCache();
    c.merge({ '7308': '0.50', '7309': '0.010' }, 1000);
    c.merge({ '7308': '0.60', '7309': '0.012' }, 3000);
    const late = c.merge({ '7309': '0.011' }, 2000);
    expect(late.late).toBe(true);
    expect(late.greeks).toMatchObject({ '7308': 0.5, '7309': 0.011 });
    expect(c.currentGreeks()).toMatchObject({ '7308': 0.6, '7309': 0.012 });
  });
  it('learns the underlying conid from field 6457', () => {
    const c = new ConidFieldCache();
    expect(c.merge({ '6457': '756733' }, 1).undConid).toBe(756733);
  });
});

describe('cpapi greeks sequence', () => {
  const g = { '7633': 0.2, '7308': 0.5, '7309': 0.01, '7310': -0.1, '7311': 0.3 };
  it('is the same for the same values and differs for different values', () => {
    expect(greeksSeq({ ...g })).toBe(greeksSeq(g));
    expect(greeksSeq({ ...g, '7308': 0.51 })).not.toBe(greeksSeq(g));
  });
  it('is a non-negative 31-bit integer', () => {
    const s = greeksSeq({ ...g, '7633': null });
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
  });
});

describe('cpapi inbound messages', () => {
  it('classifies system heartbeats, sts, tic and smd frames', () => {
    expect(parseInbound('{"topic":"system","hb":1712345678901}')).toEqual({ type: 'hb' });
    expect(parseInbound('{"topic":"system","success":"user1"}')).toEqual({ type: 'system' });
    expect(parseInbound('{"topic":"tic","alive":true,"id":"x"}')).toEqual({ type: 'tic' });
    expect(parseInbound('{"topic":"sts","args":{"authenticated":true,"competing":true,"connected":true}}')).toEqual({
      type: 'sts', authenticated: true, competing: true, connected: true,
    });
    expect(parseInbound('{"topic":"smd+123","conid":123,"_updated":1700000000000,"7308":"0.5","6509":"RB","server_id":"q0"}')).toEqual({
      type: 'smd', conid: 123, updated: 1700000000000, fields: { '7308': '0.5', '6509': 'RB' },
    });
  });
  it('takes the conid from the topic when the body lacks it, and _updated as a string', () => {
    expect(parseInbound('{"topic":"smd+77","_updated":"1700000000001"}')).toMatchObject({ type: 'smd', conid: 77, updated: 1700000000001 });
  });
  it('flags non-JSON, topic-less and conid-less frames as malformed, and unknown topics as other', () => {
    expect(parseInbound('not json').type).toBe('malformed');
    expect(parseInbound('{"foo":1}').type).toBe('malformed');
    expect(parseInbound('{"topic":"smd+abc"}').type).toBe('malformed');
    expect(parseInbound('{"topic":"blt","args":{}}')).toEqual({ type: 'other', topic: 'blt' });
  });
});
