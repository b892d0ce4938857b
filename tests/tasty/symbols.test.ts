import { describe, expect, it } from 'vitest';
import { formatStrike, occToStreamer, streamerToOcc } from '../../src/brokers/tasty/symbols.js';

describe('tasty streamer symbols', () => {
  it('maps OCC to DXLink symbols with strikes trimmed of trailing zeros', () => {
    expect(occToStreamer('SPY   251219C00500000')).toBe('.SPY251219C500');
    expect(occToStreamer('SPY   251219P00502500')).toBe('.SPY251219P502.5');
    expect(occToStreamer('SPXW  240119P04975000')).toBe('.SPXW240119P4975');
    expect(occToStreamer('AAPL  250117C00000500')).toBe('.AAPL250117C0.5');
  });

  it('maps DXLink symbols back to canonical OCC keys', () => {
    expect(streamerToOcc('.SPY251219C500')).toBe('SPY   251219C00500000');
    expect(streamerToOcc('.SPXW240119P4975')).toBe('SPXW  240119P04975000');
    expect(streamerToOcc('.SPY251219P502.5')).toBe('SPY   251219P00502500');
    expect(streamerToOcc('.AAPL1250117C200')).toBe('AAPL1 250117C00200000');
    expect(streamerToOcc('.C250117C50')).toBe('C     250117C00050000');
  });

  it('rejects symbols that are not equity options', () => {
    expect(streamerToOcc('SPY')).toBeNull();
    expect(streamerToOcc('./EW4Q25C5750:XCME')).toBeNull();
    expect(streamerToOcc('.SPY251319C500')).toBeNull(); // month 13
  });

  it('formats strikes without exponents or float noise', () => {
    expect(formatStrike(502.5)).toBe('502.5');
    expect(formatStrike(0.125)).toBe('0.125');
    expect(formatStrike(4975)).toBe('4975');
  });
});
