/**
 * The editor in a real browser: Debian's Chromium, driven by playwright-core, on real Node-RED
 * with this package linked. The palette shows every node of ours; each edit dialog opens
 * without console errors and marks a bad parameter; each help text is shown; an example is
 * imported through Import ▸ Examples, deployed, and its events appear in the debug sidebar.
 * Screenshots are taken on every run; they replace the README's (docs/images/) only with
 * UPDATE_SCREENSHOTS=1, so that a plain `npm test` leaves the working tree as it was.
 *
 * Without /usr/bin/chromium (apt-get install chromium) the suite says so loudly and skips;
 * under CI=true it fails.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrowserContext, ConsoleMessage, Page, chromium } from 'playwright-core';
import { oneOfEachFlow } from './editor_flow';
import { NodeRedProcess, PROJECT_ROOT } from './nodered';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const MODULE = 'node-red-contrib-streamevmon';
const CATEGORY = 'streamevmon';
const IMAGES = process.env.UPDATE_SCREENSHOTS === '1'
  ? path.join(PROJECT_ROOT, 'docs', 'images')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-screenshots-'));
const EXAMPLE_TO_IMPORT = '00 - Default flow - Latency TS I sample through all detectors';
const WAIT = 30_000;

/** The first paragraph of a node's help in the built editor file, as plain text. */
function helpIntro(type: string): string {
  const set = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'))['node-red'].nodes as Record<string, string>);
  for (const js of Object.values(set)) {
    const html = fs.readFileSync(path.join(PROJECT_ROOT, js.replace(/\.js$/, '.html')), 'utf8');
    const block = new RegExp(`data-help-name="${type}"[^>]*>([\\s\\S]*?)</script>`).exec(html);
    if (!block) continue;
    const p = /<p>([\s\S]*?)<\/p>/.exec(block[1]);
    assert.ok(p, `${type}: the help starts with a paragraph`);
    return plain(p[1].replace(/<[^>]+>/g, ''));
  }
  throw new Error(`no help for ${type} in the built editor files`);
}

function plain(s: string): string {
  return s.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
}

/** Types registered by a package set, read from package.json (set name = type here). */
function packageTypes(): string[] {
  return Object.keys(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'))['node-red'].nodes);
}

describe('the editor in Chromium (e2e)', function () {
  this.timeout(300_000);
  let nr: NodeRedProcess | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let profileDir = '';
  let flowDir = '';
  /** Console errors and page errors from Node-RED's own origin. */
  const problems: string[] = [];
  /** Our non-config types, as the editor's registry has them. */
  let editorTypes: string[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      const msg = `${CHROMIUM} not found (apt-get install chromium): the editor test cannot run`;
      if (process.env.CI === 'true') throw new Error(`${msg}; failing because CI=true`);
      console.warn(`\n  !!! SKIPPED: ${msg} !!!\n`);
      this.skip();
    }
    flowDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-editor-'));
    const flowFile = path.join(flowDir, 'flow.json');
    fs.writeFileSync(flowFile, JSON.stringify(oneOfEachFlow(packageTypes(), path.join(PROJECT_ROOT, 'examples'))));
    nr = await NodeRedProcess.start({ flowFile });

    profileDir = path.join(flowDir, 'chromium-profile');
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1600, height: 900 },
    });
    const origin = nr.url;
    // Only Node-RED itself: the editor's palette manager would fetch the flow-library catalogue.
    await context.route((url) => url.origin !== origin, (route) => route.abort());
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(WAIT);
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' && (m.location().url || origin).startsWith(origin)) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(origin);
    await page.waitForSelector(`#red-ui-palette-container-${CATEGORY} .red-ui-palette-node`);
    await page.waitForFunction(() => typeof (window as any).RED?.nodes?.filterNodes === 'function' && (window as any).RED.nodes.filterNodes({}).length > 0);
    editorTypes = await page.evaluate((mod) => {
      const RED = (window as any).RED;
      return RED.nodes.registry.getNodeTypes().filter((t: string) => {
        const def = RED.nodes.getType(t);
        return def && def.set && def.set.module === mod && def.category !== 'config';
      });
    }, MODULE);
    fs.mkdirSync(IMAGES, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await nr?.dispose();
    if (flowDir) fs.rmSync(flowDir, { recursive: true, force: true });
    if (process.env.UPDATE_SCREENSHOTS !== '1') fs.rmSync(IMAGES, { recursive: true, force: true });
  });

  it('shows every node of ours in the palette category "streamevmon"', async () => {
    const inPalette = await page.$$eval(`#red-ui-palette-container-${CATEGORY} .red-ui-palette-node`, (els) => els.map((e) => e.getAttribute('data-palette-type')));
    const expected = packageTypes().filter((t) => editorTypes.includes(t));
    assert.ok(expected.length >= 8, `our node types are registered in the editor (got ${editorTypes.join(', ')})`);
    assert.deepEqual([...inPalette].sort(), [...editorTypes].sort());
    for (const t of packageTypes()) {
      const category = await page.evaluate((type) => (window as any).RED.nodes.getType(type)?.category, t);
      assert.ok(category === CATEGORY || category === 'config', `${t} is in the palette category ${CATEGORY} (got ${category})`);
    }
    // Each palette entry shows its own icon, not the default one.
    const icons = await page.$$eval(`#red-ui-palette-container-${CATEGORY} .red-ui-palette-icon-container`, (els) => els.map((e) => e.getAttribute('data-palette-icon') ?? ''));
    for (const icon of icons) assert.match(icon, new RegExp(`^icons/${MODULE}/streamevmon-[\\w-]+\\.svg$`));

    const search = page.locator('#red-ui-palette-search input');
    await search.click();
    await search.pressSequentially(CATEGORY); // the search box filters on key events
    // Filtered on the category name, the palette shows our nodes only.
    await page.waitForFunction((prefix) => {
      const shown = Array.from(document.querySelectorAll<HTMLElement>('#red-ui-palette-container .red-ui-palette-node')).filter((e) => e.offsetParent !== null);
      return shown.length > 0 && shown.every((e) => (e.getAttribute('data-palette-type') ?? '').startsWith(prefix));
    }, `${CATEGORY}-`);
    await page.waitForTimeout(500);
    const palette = await page.locator('#red-ui-palette').boundingBox();
    const category = await page.locator(`#red-ui-palette-container-${CATEGORY}`).boundingBox();
    assert.ok(palette && category);
    await page.screenshot({
      path: path.join(IMAGES, 'palette.png'),
      clip: { x: palette.x, y: palette.y, width: palette.width, height: Math.min(palette.height, category.y + category.height - palette.y + 12) },
    });
    await search.fill('');
    await search.press('Backspace');
    assert.deepEqual(problems, [], 'no console errors');
  });

  /** Open the type's edit dialog, try a bad parameter, show the help; what went wrong. */
  async function checkDialog(type: string): Promise<{ failures: string[]; detector: boolean; marked: boolean }> {
    const failures: string[] = [];
    const before = problems.length;
    const id = await page.evaluate((t) => (window as any).RED.nodes.filterNodes({ type: t })[0]?.id as string | undefined, type);
    if (!id) return { failures: ['no node of this type in the flow (does an example use it?)'], detector: false, marked: false };
    await page.dblclick(`g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`);
    await page.waitForSelector('.red-ui-tray #dialog-form');
    await page.waitForSelector('#node-dialog-cancel', { state: 'visible' });
    await page.waitForTimeout(300); // oneditprepare and the tray animation

    // Every label, hint, option and placeholder came from the catalogue: no bare message key shows.
    const untranslated: string[] = await page.$$eval('#dialog-form, #dialog-form *', (els) => els.flatMap((el) => [
      el.childNodes.length ? Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent ?? '').join(' ') : '',
      el.getAttribute('placeholder') ?? '', el.getAttribute('title') ?? '',
    ]).filter((text) => /\bstreamevmon\.[\w-]+\.|node-red-contrib-streamevmon\/[\w-]+:/.test(text)));
    if (untranslated.length) failures.push(`message keys shown instead of text: ${untranslated.join(' | ')}`);
    const portLabels = await page.evaluate((nodeId) => {
      const RED = (window as any).RED;
      const node = RED.nodes.node(nodeId);
      const def = RED.nodes.getType(node.type);
      const call = (f: unknown, ...args: unknown[]): unknown => (typeof f === 'function' ? f.call(node, ...args) : f);
      return [call(def.paletteLabel), call(def.label), call(def.inputLabels, 0), ...Array.from({ length: node.outputs || 0 }, (_v, i) => call(def.outputLabels, i))]
        .map((v) => String(v ?? ''));
    }, id);
    for (const label of portLabels) if (/^streamevmon\.|:streamevmon\./.test(label)) failures.push(`label shows a message key: ${label}`);

    // Parameters with a validator that rejects "abc", whose field is visible in the dialog.
    const candidates: string[] = await page.evaluate(({ t, nodeId }) => {
      const RED = (window as any).RED;
      const node = RED.nodes.node(nodeId);
      const defaults = RED.nodes.getType(t).defaults as Record<string, { validate?: (v: unknown) => unknown }>;
      return Object.keys(defaults).filter((p) => {
        const v = defaults[p].validate;
        const el = document.getElementById(`node-input-${p}`) as HTMLInputElement | null;
        if (!v || !el || el.type !== 'text' || el.offsetParent === null) return false;
        try { return v.call(node, 'abc') !== true; } catch { return false; }
      });
    }, { t: type, nodeId: id });
    const detector = await page.evaluate((t) => 'useTimeWindow' in (window as any).RED.nodes.getType(t).defaults, type);
    if (detector && candidates.length === 0) failures.push('no validated parameter field in the dialog');
    let marked = false;
    if (candidates.length > 0) {
      const prop = candidates[0];
      const field = page.locator(`#node-input-${prop}`);
      const original = await field.inputValue();
      await field.fill('abc');
      await field.press('Tab');
      marked = await page
        .waitForFunction((p) => document.getElementById(`node-input-${p}`)?.classList.contains('input-error'), prop, { timeout: 5000 })
        .then(() => true, () => false);
      // Node-RED reads a string from a one-argument validate() as "valid" (its 2.x rule): a
      // field is marked only when the validator is declared function (v, opt).
      if (!marked) failures.push(`"abc" in ${prop} is not marked invalid (is its validate declared function (v, opt)?)`);
      else if (type === 'streamevmon-spike') {
        await page.evaluate(() => (document.activeElement as { blur?: () => void } | null)?.blur?.());
        await field.hover(); // shows the validator's message
        await page.waitForTimeout(1500);
        await page.screenshot({ path: path.join(IMAGES, 'edit-dialog.png') });
      }
      await field.fill(original);
      await field.press('Tab');
      const cleared = await page
        .waitForFunction((p) => !document.getElementById(`node-input-${p}`)?.classList.contains('input-error'), prop, { timeout: 5000 })
        .then(() => true, () => false);
      if (!cleared) failures.push(`${prop} stays marked invalid after restoring "${original}"`);
    }

    // The dialog's book button shows the node's help in the sidebar.
    await page.click('.red-ui-tray-footer-left button:has(i.fa-book)');
    const intro = helpIntro(type).slice(0, 60);
    const helpShown = await page.waitForFunction((text) => {
      const help = document.querySelector('.red-ui-sidebar-help-stack .red-ui-help');
      return !!help && (help.textContent ?? '').replace(/\s+/g, ' ').includes(text);
    }, intro, { timeout: 10_000 }).then(() => true, () => false);
    if (!helpShown) failures.push(`the help sidebar does not show "${intro}"`);

    await page.click('#node-dialog-cancel');
    await page.waitForSelector('.red-ui-tray #dialog-form', { state: 'detached' });
    failures.push(...problems.slice(before));
    return { failures, detector, marked };
  }

  it('opens the edit dialog of each node without errors; detectors mark a bad parameter; help is shown', async () => {
    assert.ok(editorTypes.length > 0);
    const failures: string[] = [];
    let detectorsMarked = 0;
    for (const type of editorTypes) {
      const r = await checkDialog(type);
      failures.push(...r.failures.map((f) => `${type}: ${f}`));
      if (r.detector && r.marked) detectorsMarked++;
    }
    assert.deepEqual(failures, [], 'every dialog opens cleanly, marks bad input and has help');
    assert.ok(detectorsMarked >= 6, `at least the six detectors mark a bad parameter (got ${detectorsMarked})`);
  });

  it('imports an example through Import > Examples, deploys it and shows events in the debug sidebar', async () => {
    // A dialog left open by a failed test above would block the menu.
    for (let i = 0; i < 3 && (await page.locator('#node-dialog-cancel').isVisible()); i++) {
      await page.click('#node-dialog-cancel');
      await page.waitForTimeout(500);
    }
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a');
    const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    await tree.locator('.red-ui-treeList-label', { hasText: MODULE }).first().click();
    await tree.locator('.red-ui-treeList-label', { hasText: EXAMPLE_TO_IMPORT }).first().click();
    await page.click('#red-ui-clipboard-dialog-ok');
    await page.waitForFunction((n) => (window as any).RED.nodes.filterNodes({ type: 'streamevmon-latencyts' }).length >= n, 2);
    // Imported nodes may hang on the mouse for placing: drop them.
    if (await page.evaluate(() => (window as any).RED.view.state() === (window as any).RED.state.IMPORT_DRAGGING)) {
      await page.mouse.click(600, 500);
    }

    await page.click('a.red-ui-tab-link-button[href="#debug"]');
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('.red-ui-notification:has-text("Successfully deployed")');
    // The example's debug node "events" shows the event objects in the sidebar.
    const events = page.locator('.red-ui-debug-msg', { has: page.locator('.red-ui-debug-msg-name', { hasText: /(^|: )events$/ }) });
    await events.nth(9).waitFor({ timeout: 60_000 });
    const first = plain((await events.first().textContent()) ?? '');
    assert.match(first, /msg\.payload : Object/);
    assert.match(first, /eventType: "\w+_events"/, 'an event object is shown');

    const tab = await page.evaluate((t) => (window as any).RED.nodes.filterNodes({ type: t })
      .map((n: { z: string }) => n.z).find((z: string) => z !== 'e2etab') as string, 'streamevmon-latencyts');
    await page.click(`#red-ui-tab-${tab} a.red-ui-tab-label`);
    await page.mouse.move(600, 750); // no tooltip over the tab
    await page.locator('.red-ui-notification').first().waitFor({ state: 'hidden', timeout: 15_000 }).catch(() => undefined);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(IMAGES, 'debug-sidebar.png') });
    assert.deepEqual(problems, [], 'no console errors');
  });
});
