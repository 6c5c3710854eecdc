import { strict as assert } from 'node:assert';
import { changeMagnitudeSeverity, trunc } from '../../lib/severity';
import { fmtD } from '../../lib/format';

describe('changeMagnitudeSeverity (detectors.md §1.3, vector U1)', () => {
  const table: Array<[number, number, number]> = [
    [0.5, 5, 100], [3, 9, 38], [8, 16, 26], [100, 130, 24], [300, 350, 42], [400, 450, 37],
    [327, 360, 30], [1000, 1100, 29], [1000, 1086, 25], [1000, 1087, 26], [1000, 900, 33],
    [200, 800, 100], [800, 200, 100], [5, 5, 1], [0, 0, 0], [0, 5, 100], [-5, 10, 1],
    [0.05, 0.06, 1], [1.0, 63.4375, 100], [9, 1, 100], [1, 9, 100], [2, 9, 60],
  ];
  for (const [old, current, expected] of table) {
    it(`(${old}, ${current}) → ${expected}`, () => {
      assert.equal(changeMagnitudeSeverity(old, current), expected);
    });
  }

  it('trunc behaves like a Java int cast', () => {
    assert.equal(trunc(NaN), 0);
    assert.equal(trunc(-2.7), -2);
    assert.equal(trunc(1e12), 2147483647);
    assert.equal(trunc(-1e12), -2147483648);
  });
});

describe('fmtD (Java Double.toString, vector U6)', () => {
  const cases: Array<[number, string]> = [
    [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [0, '0.0'], [-0, '-0.0'],
    [225000, '225000.0'], [63437.5, '63437.5'], [0.002, '0.002'], [9999999, '9999999.0'],
    [2452500.0000000116, '2452500.0000000116'], [2.25e7, '2.25E7'], [1e7, '1.0E7'], [1e-4, '1.0E-4'],
    [-1.5e-5, '-1.5E-5'], [1617187.5, '1617187.5'], [1e21, '1.0E21'], [123456789012, '1.23456789012E11'],
  ];
  for (const [x, s] of cases) {
    it(`${String(x)} → ${s}`, () => assert.equal(fmtD(x), s));
  }
});
