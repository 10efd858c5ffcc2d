import type { Checkpoint } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import { compareCheckpoints, formatCheckpoint, isCheckpoint, parseCheckpoint, START } from './checkpoint';

const cp = (value: string) => value as Checkpoint;

describe('checkpoints (decision 0003)', () => {
  it('orders by the writing transaction first: an older transaction with a later position comes first', () => {
    // The gap-safe case: transaction 5 took position 100 but committed after transaction 6's 50.
    expect(compareCheckpoints(cp('5:100'), cp('6:50'))).toBe(-1);
    expect(compareCheckpoints(cp('6:50'), cp('5:100'))).toBe(1);
  });

  it('orders by position within one transaction, and is 0 only for the same checkpoint', () => {
    expect(compareCheckpoints(cp('7:1'), cp('7:2'))).toBe(-1);
    expect(compareCheckpoints(cp('7:2'), cp('7:1'))).toBe(1);
    expect(compareCheckpoints(cp('7:2'), cp('7:2'))).toBe(0);
    expect(compareCheckpoints(START, cp('0:1'))).toBe(-1);
  });

  it('compares transaction ids as numbers past 2^53, not as strings or floats', () => {
    const big = '18446744073709551615';
    const below = '18446744073709551614';
    expect(compareCheckpoints(cp(`${below}:9`), cp(`${big}:1`))).toBe(-1);
    expect(compareCheckpoints(cp('9:1'), cp('10:1'))).toBe(-1);
    expect(parseCheckpoint(`${big}:${big}`)).toEqual({ tx: BigInt(big), position: BigInt(big) });
  });

  it('reads back what it formats', () => {
    expect(parseCheckpoint(formatCheckpoint(42n, 7n))).toEqual({ tx: 42n, position: 7n });
    expect(formatCheckpoint('3', '4')).toBe('3:4');
  });

  it('refuses anything but <txid>:<position> whole, naming the value', () => {
    for (const bad of [
      'x1:2',
      '1:2x',
      '1:',
      ':2',
      '1-2',
      ' 1:2',
      '1:2 ',
      '-1:2',
      '123456789012345678901:1',
    ]) {
      expect(isCheckpoint(bad), bad).toBe(false);
      expect(() => parseCheckpoint(bad), bad).toThrow(
        `checkpoint ${JSON.stringify(bad)} is malformed: expected <txid>:<position>`,
      );
    }
    expect(isCheckpoint(12)).toBe(false);
    expect(isCheckpoint(null)).toBe(false);
    expect(isCheckpoint('12:34')).toBe(true);
  });
});
