/**
 * Every text of the editor and the runtime comes from the en-US message catalogue of its node
 * set (nodes/locales/en-US/<node set>.json), which Node-RED registers under the node set's
 * namespace. For each node set of package.json:
 * - the catalogue exists and parses, and has streamevmon.paletteLabel;
 * - every key the node set uses resolves: data-i18n keys of its edit template, and every
 *   'streamevmon.…' string in its .html (with the @include snippets), in
 *   resources/streamevmon-editor.js when the .html loads it, in its .ts and the nodes/common
 *   modules that imports; `_('…')` keys in other namespaces resolve in Node-RED's own
 *   catalogues (node-red:, and the editor's common.*);
 * - the parameter names and messages the shared validators look up exist;
 * - the template has no text outside data-i18n elements, and the palette label, node label,
 *   port labels are not literal strings;
 * - no catalogue key is unused (keys under a prefix the code builds, 'streamevmon.x.' + y,
 *   count as used).
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './nodered';

const NODES_DIR = path.join(PROJECT_ROOT, 'nodes');
const LOCALES = path.join(NODES_DIR, 'locales', 'en-US');
const EDITOR_JS = path.join(PROJECT_ROOT, 'resources', 'streamevmon-editor.js');
const NR = path.join(PROJECT_ROOT, 'node_modules', '@node-red');
/** Node-RED's catalogues: the nodes' (namespace node-red) and the editor's (no prefix needed for common.*). */
const CORE: Record<string, string> = {
  'node-red': path.join(NR, 'nodes', 'locales', 'en-US', 'messages.json'),
  editor: path.join(NR, 'editor-client', 'locales', 'en-US', 'editor.json'),
};

type Catalogue = Record<string, unknown>;

function readJson(file: string): Catalogue {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Catalogue;
}

function resolve(cat: Catalogue, key: string): unknown {
  let at: unknown = cat;
  for (const part of key.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Every dotted key of a catalogue that holds a message. */
function leaves(cat: unknown, prefix = ''): string[] {
  if (typeof cat === 'string') return [prefix];
  if (cat === null || typeof cat !== 'object') return [];
  return Object.entries(cat as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/** The .html with `// @include file` lines replaced, as scripts/copy-assets.js does. */
function expandedHtml(set: string): string {
  return fs.readFileSync(path.join(NODES_DIR, `${set}.html`), 'utf8').replace(/^\s*\/\/ @include (\S+).*$/gm,
    (_line, file: string) => fs.readFileSync(path.join(NODES_DIR, file), 'utf8'));
}

/** The node's .ts and every nodes/ module it imports (directly or not); lib/ has no texts of ours. */
function runtimeSources(set: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !fs.existsSync(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    // Type-only imports bring no texts.
    for (const m of text.matchAll(/^import (?!type )[^;]*from '(\.[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), `${m[1]}.ts`);
      if (target.startsWith(NODES_DIR + path.sep)) visit(target);
    }
  };
  visit(path.join(NODES_DIR, `${set}.ts`));
  return [...seen].map((f) => withoutComments(fs.readFileSync(f, 'utf8')));
}

/** Comments may quote keys as examples: leave them out. */
function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

function template(html: string, set: string): string {
  return new RegExp(`data-template-name="${set}"[^>]*>([\\s\\S]*?)</script>`).exec(html)?.[1] ?? '';
}

function editorScript(html: string): string {
  return [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** The node sets of package.json, and any node in nodes/ not registered there yet. */
const nodeSets = [...new Set([
  ...Object.keys((readJson(path.join(PROJECT_ROOT, 'package.json'))['node-red'] as { nodes: Record<string, string> }).nodes),
  ...fs.readdirSync(NODES_DIR).filter((f) => f.endsWith('.html') && fs.existsSync(path.join(NODES_DIR, f.replace(/\.html$/, '.ts')))).map((f) => f.slice(0, -'.html'.length)),
])];

describe('i18n: every text through the en-US catalogue of its node set', () => {
  const core = Object.fromEntries(Object.entries(CORE).map(([ns, file]) => [ns, readJson(file)]));
  const editorJs = fs.readFileSync(EDITOR_JS, 'utf8');

  it('package.json lists node sets, each with an .html', () => {
    assert.ok(nodeSets.length >= 15, `found ${nodeSets.length}`);
    for (const set of nodeSets) assert.ok(fs.existsSync(path.join(NODES_DIR, `${set}.html`)), `${set}.html`);
  });

  for (const set of nodeSets) {
    describe(set, () => {
      const catFile = path.join(LOCALES, `${set}.json`);
      let cat: Catalogue = {};
      let html = '';
      let tpl = '';
      let script = '';
      let sources: string[] = [];
      let detector = false;
      const sharedKeys: string[] = [];
      const sharedPrefixes: string[] = [];

      before(function () {
        if (!fs.existsSync(path.join(NODES_DIR, `${set}.html`))) this.skip();
        html = expandedHtml(set);
        tpl = template(html, set);
        script = editorScript(html);
        sources = [withoutComments(script), tpl, ...runtimeSources(set)];
        detector = script.includes('StreamevmonEditor.prepareDetector');
        // The shared helpers in resources/streamevmon-editor.js build these keys for the nodes that call them.
        if (detector) sharedKeys.push(...[...editorJs.matchAll(/l\('(\w+)'\)|check\('(\w+)'/g)].map((m) => `streamevmon.common.label.${m[1] ?? m[2]}`),
          ...[...editorJs.matchAll(/'(streamevmon\.common\.[\w.]*\w)'/g)].map((m) => m[1]));
        if (/StreamevmonEditor\.(range|commonValidators)/.test(script)) sharedPrefixes.push('streamevmon.param.', 'streamevmon.validation.');
        if (fs.existsSync(catFile)) cat = readJson(catFile);
      });

      it('has a catalogue with a palette label', () => {
        assert.ok(fs.existsSync(catFile), `nodes/locales/en-US/${set}.json exists`);
        assert.equal(typeof resolve(cat, 'streamevmon.paletteLabel'), 'string', 'streamevmon.paletteLabel');
      });

      it('resolves every key it uses', () => {
        const missing: string[] = [];
        const check = (key: string, where: string): void => {
          const colon = key.indexOf(':');
          if (colon > 0) {
            const ns = key.slice(0, colon);
            const inner = key.slice(colon + 1);
            const target = ns === set || ns === `node-red-contrib-streamevmon/${set}` ? cat : core[ns];
            if (!target || typeof resolve(target, inner) !== 'string') missing.push(`${key} (${where})`);
          } else if (key.startsWith('streamevmon.')) {
            if (typeof resolve(cat, key) !== 'string') missing.push(`${key} (${where})`);
          } else if (typeof resolve(core.editor, key) !== 'string' && typeof resolve(core['node-red'], key) !== 'string') {
            missing.push(`${key} (${where}, not ours and not Node-RED's)`);
          }
        };
        for (const m of tpl.matchAll(/data-i18n="([^"]+)"/g)) {
          for (const part of m[1].split(';')) check(part.replace(/^\[[^\]]*\]/, ''), 'data-i18n');
        }
        for (const text of sources) {
          for (const m of text.matchAll(/['"`](streamevmon\.[\w.-]*[\w-])['"`]/g)) check(m[1], 'code');
          for (const m of text.matchAll(/\b_\(\s*['"]([^'"]*[^'".])['"]/g)) check(m[1], '_()');
        }
        // The shared validators look up streamevmon.param.<name> and streamevmon.validation.<kind>.
        for (const m of script.matchAll(/StreamevmonEditor\.range\('(\w+)', [^,]+, [^,)]+(?:, \{([^}]*)\})?\)/g)) {
          check(`streamevmon.param.${m[1]}`, 'range()');
          const opts = m[2] ?? '';
          check(`streamevmon.validation.${opts.includes('int: true') ? 'integer' : 'number'}${opts.includes('minExclusive') ? 'Above' : 'Between'}`, 'range()');
        }
        for (const m of script.matchAll(/StreamevmonEditor\.commonValidators\.(\w+)/g)) {
          check(`streamevmon.param.${m[1]}`, 'commonValidators');
          check(m[1] === 'valueScale' ? 'streamevmon.validation.numberAbove' : 'streamevmon.validation.integerBetween', 'commonValidators');
        }
        for (const key of sharedKeys) check(key, 'streamevmon-editor.js');
        assert.deepEqual(missing, [], `keys missing from nodes/locales/en-US/${set}.json`);
      });

      it('has no text outside data-i18n elements in its edit template, and no literal labels', () => {
        assert.ok(tpl.trim(), 'an edit template');
        const bare = tpl
          .replace(/<(\w+)[^>]*data-i18n="[^"]*"[^>]*>[\s\S]*?<\/\1>/g, '')
          .replace(/<[^>]+>/g, ' ')
          .replace(/&nbsp;/g, ' ')
          .split('\n').map((l) => l.trim()).filter((l) => /[A-Za-z]/.test(l));
        assert.deepEqual(bare, [], 'text in the template without data-i18n');
        for (const prop of ['paletteLabel', 'inputLabels', 'outputLabels']) {
          assert.doesNotMatch(script, new RegExp(`\\b${prop}:\\s*(['"\\[])`), `${prop} is a literal: use a function and this._()`);
        }
        assert.doesNotMatch(script, /label: function \(\) \{ return this\.name \|\| '/, 'the default node label is a literal');
        assert.doesNotMatch(script, /\|\|\s*'[a-z][^']* must [^']*'/, 'a validator message is a literal');
      });

      it('has no unused keys', () => {
        const all = sources.join('\n');
        const prefixes = [...sharedPrefixes, ...[...all.matchAll(/['"](streamevmon\.[\w.-]*\.)['"]\s*\+/g)].map((m) => m[1])];
        const used = (key: string): boolean => all.includes(`'${key}'`) || all.includes(`"${key}"`) || all.includes(`${key}"`)
          || sharedKeys.includes(key) || prefixes.some((p) => key.startsWith(p));
        // i18next picks `key_one` (and the other plural forms) itself when `key` is looked up with a count.
        const plural = /_(zero|one|two|few|many|other)$/;
        const unused = leaves(cat).filter((k) => !used(k) && !(plural.test(k) && used(k.replace(plural, ''))));
        assert.deepEqual(unused, [], `unused keys in nodes/locales/en-US/${set}.json`);
      });
    });
  }
});

describe('i18n: runtime texts through Node-RED\'s i18n (nodes/common/i18n.ts)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { translator, lookup } = require('../../nodes/common/i18n') as typeof import('../../nodes/common/i18n');
  const BUILT = path.join(PROJECT_ROOT, 'dist', 'nodes', 'locales');
  const PARAMS = { count: 3, type: 'streamevmon-x', problems: 'p', error: 'e', rejected: 1, total: 2, first: 'f', code: 'ECONNREFUSED' };
  const built = (): string[] => nodeSets.filter((set) => fs.existsSync(path.join(BUILT, 'en-US', `${set}.json`)));

  /**
   * Every key of every built catalogue as Node-RED's own i18n (@node-red/util, i18next) reads it
   * after registering the catalogue as the loader does: namespace <module>/<node set>. In a
   * child process, so this process's Node-RED singletons stay untouched.
   */
  function nodeRedTexts(): Record<string, Record<string, string>> {
    const script = `
      const { i18n } = require('@node-red/util');
      const [dir, sets, params] = JSON.parse(process.argv[1]);
      (async () => {
        await i18n.init({});
        const out = {};
        for (const [set, keys] of Object.entries(sets)) {
          const ns = 'node-red-contrib-streamevmon/' + set;
          await i18n.registerMessageCatalog(ns, dir, set + '.json');
          out[set] = {};
          for (const key of keys) {
            out[set][key] = i18n._(ns + ':' + key, params);
            out[set]['#1 ' + key] = i18n._(ns + ':' + key, { ...params, count: 1 });
          }
          out[set]['streamevmon.no.such.key'] = i18n._(ns + ':streamevmon.no.such.key');
        }
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const sets = Object.fromEntries(built().map((set) => [set, leaves(readJson(path.join(BUILT, 'en-US', `${set}.json`)))]));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const stdout = execFileSync(process.execPath, ['-e', script, JSON.stringify([BUILT, sets, PARAMS])], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
    return JSON.parse(stdout) as Record<string, Record<string, string>>;
  }

  it('gives the catalogue text with __name__ replaced, in Node-RED and in the test helper alike', function () {
    this.timeout(30_000);
    assert.ok(built().length >= 15, 'the catalogues are built into dist/nodes/locales/en-US');
    const texts = nodeRedTexts();
    for (const set of built()) {
      // What RED._ is inside a node module: the node set's namespace in front of the key.
      let one = false; // count 1 is looked up as '#1 <key>'
      const red = { _: (key: string) => texts[set][one ? `#1 ${key}` : key] ?? key };
      const helperRed = { _: (key: string) => key }; // node-red-node-test-helper's RED._
      const t = translator(red as never, set);
      const fallback = translator(helperRed as never, set);
      for (const key of Object.keys(texts[set]).filter((k) => k !== 'streamevmon.no.such.key' && !k.startsWith('#1 '))) {
        one = true;
        assert.equal(t(key, { ...PARAMS, count: 1 }), fallback(key, { ...PARAMS, count: 1 }), `${set}: ${key} with count 1 reads the same in Node-RED and in the helper`);
        one = false;
        assert.equal(typeof lookup(set, key), 'string', `${set}: ${key}`);
        assert.notEqual(texts[set][key], key, `${set}: Node-RED's i18n resolves ${key}`);
        const viaNodeRed = t(key, PARAMS);
        assert.equal(viaNodeRed, fallback(key, PARAMS), `${set}: ${key} reads the same in Node-RED and in the helper`);
        for (const name of Object.keys(PARAMS)) assert.ok(!viaNodeRed.includes(`__${name}__`), `${set}: ${key} interpolates __${name}__`);
      }
      assert.equal(t('streamevmon.no.such.key'), 'streamevmon.no.such.key', 'a missing key reads as itself');
    }
  });

  it('formats the detector status and errors as before', () => {
    const t = translator({ _: (k: string) => k } as never, 'streamevmon-spike');
    assert.equal(t('streamevmon.status.streams', { count: 2 }), '2 streams');
    assert.equal(t('streamevmon.status.streams', { count: 1 }), '1 stream');
    assert.equal(t('streamevmon.status.events', { count: 0 }), '0 events');
    assert.equal(t('streamevmon.error.notRunning', { type: 'streamevmon-spike', problems: 'spike: lag must be …' }), 'streamevmon-spike is not running: spike: lag must be …');
  });
});
