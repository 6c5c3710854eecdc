/** InfluxQL quoting (data-formats.md Q4): hostile names can never leave their quotes. */
import { strict as assert } from 'node:assert';
import { createDatabase, createRetentionPolicy, qualifiedMeasurement, quoteIdent, quoteString } from '../../lib/influx/influxql';

describe('InfluxQL quoting', () => {
  it('double-quotes identifiers, escaping " and \\', () => {
    assert.equal(quoteIdent('events'), '"events"');
    assert.equal(quoteIdent('my db'), '"my db"');
    assert.equal(quoteIdent('a"b'), '"a\\"b"');
    assert.equal(quoteIdent('a\\b'), '"a\\\\b"');
    assert.equal(quoteIdent('x\\"; DROP DATABASE "y'), '"x\\\\\\"; DROP DATABASE \\"y"');
    assert.equal(quoteIdent("it's"), '"it\'s"', 'single quotes need no escape inside double quotes');
    assert.equal(quoteIdent('日本語 ✓'), '"日本語 ✓"');
  });

  it("single-quotes string literals, escaping ' and \\", () => {
    assert.equal(quoteString('amp'), "'amp'");
    assert.equal(quoteString("O'Brien"), "'O\\'Brien'");
    assert.equal(quoteString('back\\slash'), "'back\\\\slash'");
    assert.equal(quoteString("x' OR 1=1; DROP DATABASE 'y"), "'x\\' OR 1=1; DROP DATABASE \\'y'");
    assert.equal(quoteString('"double"'), "'\"double\"'");
    assert.equal(quoteString(''), "''");
  });

  it('refuses what no escape can carry: line breaks, empty identifiers, non-strings', () => {
    assert.throws(() => quoteIdent('a\nb'), /line break/);
    assert.throws(() => quoteString('a\r\nb'), /line break/);
    assert.throws(() => quoteIdent(''), /non-empty/);
    assert.throws(() => quoteString(42 as unknown as string), /must be a string/);
  });

  it('builds the set-up statements of data-formats.md §12.2', () => {
    assert.equal(createDatabase('streamevmon'), 'CREATE DATABASE "streamevmon"');
    assert.equal(
      createRetentionPolicy('streamevmondefault', 'streamevmon'),
      'CREATE RETENTION POLICY "streamevmondefault" ON "streamevmon" DURATION 0s REPLICATION 1 DEFAULT',
    );
    assert.equal(
      createRetentionPolicy('r"p', 'd b', { duration: '30d', replication: 2, isDefault: false }),
      'CREATE RETENTION POLICY "r\\"p" ON "d b" DURATION 30d REPLICATION 2',
    );
    assert.throws(() => createRetentionPolicy('rp', 'db', { duration: '1d; DROP DATABASE x' }), /duration/);
    assert.throws(() => createRetentionPolicy('rp', 'db', { replication: 0 }), /replication/);
  });

  it('qualifies measurements with database and retention policy', () => {
    assert.equal(qualifiedMeasurement('db', 'rp', 'events'), '"db"."rp"."events"');
    assert.equal(qualifiedMeasurement('db', '', 'events'), '"db".."events"');
  });
});
