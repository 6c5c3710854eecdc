import { strict as assert } from 'node:assert';
import { RingBuffer, doubles, smallInt } from '../../lib/detectors/ring';
import { seeded } from '../support/state-fingerprint';

const SPECIAL = [-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, 2452500.0000000116];

describe('doubles', () => {
  it('gives a fresh array of n zeros on every call', () => {
    for (const n of [1, 2, 7, 50, 101]) {
      const a = doubles(n);
      const b = doubles(n);
      assert.equal(a.length, n);
      assert.ok(a.every((x) => Object.is(x, 0)), 'zeros');
      assert.notEqual(a, b);
      a[0] = 5;
      a[n - 1] = 6;
      assert.ok(b.every((x) => Object.is(x, 0)), 'arrays of one length share nothing');
      assert.ok(doubles(n).every((x) => Object.is(x, 0)), 'the template is untouched');
    }
  });

  it('keeps every double exactly: −0, NaN, ±Infinity, subnormals', () => {
    const a = doubles(SPECIAL.length);
    SPECIAL.forEach((x, i) => { a[i] = x; });
    SPECIAL.forEach((x, i) => assert.ok(Object.is(a[i], x), `${String(x)} at ${i}`));
  });
});

describe('smallInt', () => {
  it('returns the same number', () => {
    for (const x of [0, 1, 50, 600, -3, 2147483647, -2147483648, 0.5, 1e12, NaN, Infinity, 2 ** 31]) {
      assert.ok(Object.is(smallInt(x), x), String(x));
    }
    assert.equal(smallInt(Number('50.0')), 50);
    assert.equal(smallInt(-0), 0);
  });
});

describe('RingBuffer', () => {
  it('behaves like an array FIFO of the last `capacity` values (random pushes and clears)', () => {
    const next = seeded(11);
    for (const capacity of [1, 2, 3, 5, 9, 50]) {
      const ring = new RingBuffer(capacity);
      let model: number[] = [];
      for (let i = 0; i < 600; i++) {
        if (next() < 0.02) {
          ring.clear();
          model = [];
        }
        const v = next() < 0.2 ? SPECIAL[Math.floor(next() * SPECIAL.length)] : Math.floor(next() * 100) - 20;
        model.push(v);
        const dropped = model.length > capacity ? model.shift() : undefined;
        const got = ring.push(v);
        assert.ok(Object.is(got, dropped), `capacity ${capacity}, step ${i}: dropped ${String(got)}, expected ${String(dropped)}`);
        assert.equal(ring.length, model.length);
        assert.ok(Object.is(ring.last(), model[model.length - 1]));
        for (let k = 0; k < model.length; k++) assert.ok(Object.is(ring.at(k), model[k]), `at(${k})`);
        assert.deepEqual(ring.toArray(), model);
      }
    }
  });

  it('is empty at first and after clear', () => {
    const ring = new RingBuffer(3);
    assert.equal(ring.length, 0);
    assert.equal(ring.last(), undefined);
    assert.deepEqual(ring.toArray(), []);
    [1, 2, 3, 4].forEach((v) => ring.push(v));
    ring.clear();
    assert.equal(ring.length, 0);
    assert.equal(ring.last(), undefined);
    assert.equal(ring.push(9), undefined);
    assert.deepEqual(ring.toArray(), [9]);
  });

  it('from keeps the newest `capacity` values, oldest first', () => {
    assert.deepEqual(RingBuffer.from(3, [1, 2, 3, 4, 5]).toArray(), [3, 4, 5]);
    assert.deepEqual(RingBuffer.from(3, [-0, NaN]).toArray(), [-0, NaN]);
    assert.equal(RingBuffer.from(4, []).length, 0);
  });
});
