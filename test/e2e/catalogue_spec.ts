/**
 * The en-US message catalogues (nodes/locales/en-US/<node set>.json) against the editor
 * templates: every labelled field of a template has its label in the catalogue, and the
 * palette label matches, so the templates can switch to data-i18n without losing text.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './nodered';

const LOCALES = path.join(PROJECT_ROOT, 'nodes', 'locales', 'en-US');
/** Rows every detector gets from resources/streamevmon-editor.js (catalogue: streamevmon.common). */
const COMMON_ROWS = ['property', 'timeProperty', 'filterLossy', 'useTimeWindow', 'windowDuration', 'maxLateness', 'windowSlide', 'passthrough', 'persist', 'store', 'instanceTag'];

interface Catalogue {
  streamevmon: {
    paletteLabel: string;
    label: Record<string, string>;
    common?: { label: Record<string, string> };
  };
}

describe('en-US message catalogues', () => {
  const files = fs.existsSync(LOCALES) ? fs.readdirSync(LOCALES).filter((f) => f.endsWith('.json')) : [];

  it('exist for the node sets', () => assert.ok(files.length >= 10, `found ${files.length}`));

  for (const file of files) {
    const set = file.slice(0, -'.json'.length);
    it(`${set}: parses, and covers the labels and palette label of its template`, () => {
      const cat = JSON.parse(fs.readFileSync(path.join(LOCALES, file), 'utf8')) as Catalogue;
      const html = fs.readFileSync(path.join(PROJECT_ROOT, 'nodes', `${set}.html`), 'utf8');
      const template = new RegExp(`data-template-name="${set}"[^>]*>([\\s\\S]*?)</script>`).exec(html)?.[1] ?? '';
      const fields = [...template.matchAll(/<label for="node-input-([\w-]+)"/g)].map((m) => m[1]);
      assert.ok(fields.length > 0, `${set}.html has a template with labelled fields`);
      for (const f of fields) assert.equal(typeof cat.streamevmon.label[f], 'string', `streamevmon.label.${f}`);
      const palette = /paletteLabel:\s*'([^']*)'/.exec(html)?.[1];
      assert.equal(cat.streamevmon.paletteLabel, palette);
      if (template.includes('streamevmon-common')) {
        for (const row of COMMON_ROWS) assert.equal(typeof cat.streamevmon.common?.label[row], 'string', `streamevmon.common.label.${row}`);
      }
    });
  }
});
