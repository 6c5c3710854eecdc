/**
 * Packaging, end to end: the tarball `npm pack` makes from the built tree, installed with npm
 * into a fresh Node-RED user directory, loads in real Node-RED. Checked through the admin API:
 * node sets, icons, example flows, type names, and the default example running.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { InstalledNodeRed, Installed, PACKAGE_NAME, packAndInstall } from './installed';
import { PROJECT_ROOT } from './nodered';

interface NodeSet { id: string; name: string; types: string[]; enabled: boolean; module: string; version: string; err?: string }
interface FlowNode { id: string; type: string; [k: string]: unknown }
/** GET /library/examples/flows/<folder>: sub-folders as strings, flows as {fn}. */
type LibraryListing = Array<string | { fn: string }>;

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  'node-red': { nodes: Record<string, string> };
};
const NODE_SETS = pkg['node-red'].nodes;
const DEFAULT_EXAMPLE = '00 - Default flow - Latency TS I sample through all detectors';

/** Types of packages used beside ours, written out by hand (node-red-conventions.md §3). */
const THIRD_PARTY_TYPES = [
  'influxdb', 'influxdb in', 'influxdb out', 'influxdb batch', // node-red-contrib-influxdb
  'postgreSQLConfig', 'postgresql', // node-red-contrib-postgresql
];

/** Example flow paths (folder/name, no .json) under a package's examples/. */
function exampleFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return exampleFiles(path.join(dir, e.name), `${prefix}${e.name}/`);
    return e.name.endsWith('.json') ? [`${prefix}${e.name.slice(0, -'.json'.length)}`] : [];
  });
}

function examplePath(p: string): string {
  return `/library/examples/flows/${PACKAGE_NAME}/${p.split('/').map(encodeURIComponent).join('/')}`;
}

describe('the packed package installed into a fresh Node-RED (e2e)', function () {
  this.timeout(180_000);
  let installed: Installed | undefined;
  let nr: InstalledNodeRed | undefined;

  before(async () => {
    for (const js of Object.values(NODE_SETS)) {
      assert.ok(fs.existsSync(path.join(PROJECT_ROOT, js)), `${js} is not built: run npm run build first`);
    }
    installed = await packAndInstall();
    nr = await InstalledNodeRed.start(installed.userDir);
  });

  after(async () => {
    await nr?.stop();
    if (installed) fs.rmSync(installed.dir, { recursive: true, force: true });
  });

  function red(): InstalledNodeRed {
    assert.ok(nr, 'Node-RED is running');
    return nr;
  }

  it('the tarball holds the runtime files and no sources or tests', () => {
    const files = new Set(installed!.files);
    for (const js of Object.values(NODE_SETS)) {
      assert.ok(files.has(js), `${js} is packed`);
      assert.ok(files.has(js.replace(/\.js$/, '.html')), `the editor file of ${js} is packed`);
    }
    for (const icon of fs.readdirSync(path.join(PROJECT_ROOT, 'icons'))) {
      assert.ok(files.has(`dist/nodes/icons/${icon}`), `icon ${icon} is packed beside the nodes`);
    }
    for (const ex of exampleFiles(path.join(PROJECT_ROOT, 'examples'))) assert.ok(files.has(`examples/${ex}.json`), `example ${ex} is packed`);
    for (const f of ['package.json', 'README.md', 'LICENSE']) assert.ok(files.has(f), `${f} is packed`);
    assert.ok([...files].some((f) => f.startsWith('data/latency-ts-i/')), 'the sample the default flow replays is packed');
    const unwanted = [...files].filter((f) => /^dist\/(test|bench)\/|^(lib|nodes|test|bench)\/|(?<!\.d)\.ts$|^node_modules\//.test(f));
    assert.deepEqual(unwanted, [], 'no sources, tests or benchmarks in the tarball');
    assert.ok(!fs.lstatSync(installed!.packageDir).isSymbolicLink(), 'installed as a copy, not a link');
    assert.ok(fs.existsSync(path.join(installed!.userDir, 'node_modules', 'pg', 'package.json')), 'runtime dependency pg installed');
  });

  it('every node set of the module loads without error and registers its type', async () => {
    const sets = (await red().getJson<NodeSet[]>('/nodes')).filter((s) => s.module === PACKAGE_NAME);
    assert.deepEqual(sets.map((s) => s.name).sort(), Object.keys(NODE_SETS).sort(), 'the node sets of package.json');
    for (const s of sets) {
      assert.equal(s.err, undefined, `${s.id} failed to load: ${s.err}`);
      assert.ok(s.enabled, `${s.id} is enabled`);
      assert.equal(s.version, pkg.version);
      assert.ok(s.types.includes(s.name), `${s.id} registers type ${s.name} (got ${s.types.join(', ')})`);
    }
  });

  it('serves our icons under our module', async () => {
    const icons = await red().getJson<Record<string, string[]>>('/icons');
    const expected = fs.readdirSync(path.join(PROJECT_ROOT, 'icons')).sort();
    assert.deepEqual([...(icons[PACKAGE_NAME] ?? [])].sort(), expected);
    for (const icon of expected) {
      const res = await fetch(`${red().url}/icons/${PACKAGE_NAME}/${encodeURIComponent(icon)}`);
      assert.equal(res.status, 200, `icon ${icon} is served`);
      assert.match(await res.text(), /<svg/);
    }
  });

  it('serves the en-US message catalogue of each node set that ships one', async () => {
    const catalogues = await red().getJson<Record<string, { streamevmon?: { paletteLabel?: unknown } }>>('/nodes/messages?lng=en-US');
    const shipped = Object.keys(NODE_SETS).filter((set) => fs.existsSync(path.join(installed!.packageDir, 'dist', 'nodes', 'locales', 'en-US', `${set}.json`)));
    assert.ok(shipped.length >= 10, `catalogues are packed (found ${shipped.length})`);
    for (const set of shipped) {
      const ns = catalogues[`${PACKAGE_NAME}/${set}`];
      assert.ok(ns, `the catalogue of ${set} is served under ${PACKAGE_NAME}/${set}`);
      assert.equal(typeof ns.streamevmon?.paletteLabel, 'string', `${set}: streamevmon.paletteLabel`);
    }
  });

  it('lists every example flow, and each one imports as a flow array', async () => {
    const listed: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      const suffix = folder ? `/${folder.split('/').map(encodeURIComponent).join('/')}` : '';
      for (const item of await red().getJson<LibraryListing>(`/library/examples/flows/${PACKAGE_NAME}${suffix}`)) {
        if (typeof item === 'string') await walk(folder ? `${folder}/${item}` : item);
        else listed.push(folder ? `${folder}/${item.fn}` : item.fn);
      }
    };
    assert.ok((await red().getJson<string[]>('/library/examples/flows/')).includes(PACKAGE_NAME), 'our module has examples');
    await walk('');
    assert.deepEqual(listed.sort(), exampleFiles(path.join(installed!.packageDir, 'examples')).sort());
    assert.ok(listed.includes(DEFAULT_EXAMPLE));

    const ourTypes = new Set(Object.keys(NODE_SETS));
    for (const ex of listed) {
      const flow = await red().getJson<FlowNode[]>(examplePath(ex));
      assert.ok(Array.isArray(flow) && flow.length > 0, `${ex} is a non-empty array`);
      for (const n of flow) {
        assert.ok(typeof n.id === 'string' && typeof n.type === 'string', `${ex}: every node has an id and a type`);
        if (n.type.startsWith('streamevmon-')) assert.ok(ourTypes.has(n.type), `${ex}: ${n.type} is a type we register`);
      }
      assert.ok(flow.some((n) => n.type === 'comment'), `${ex} explains itself in a comment node`);
    }
  });

  it('no node type collides with Node-RED core, node-red-contrib-influxdb or node-red-contrib-postgresql', async () => {
    const sets = await red().getJson<NodeSet[]>('/nodes');
    const core = new Set(sets.filter((s) => s.module === 'node-red').flatMap((s) => s.types));
    assert.ok(core.has('inject') && core.has('debug'), 'the core types are listed');
    const ours = sets.filter((s) => s.module === PACKAGE_NAME).flatMap((s) => s.types);
    assert.ok(ours.length >= Object.keys(NODE_SETS).length);
    for (const t of ours) {
      assert.ok(!core.has(t), `${t} is a core type`);
      assert.ok(!THIRD_PARTY_TYPES.includes(t), `${t} is taken by node-red-contrib-influxdb/-postgresql`);
      assert.match(t, /^streamevmon-[a-z0-9-]+$/, `${t} carries the prefix`);
    }
    assert.equal(new Set(ours).size, ours.length, 'each type is registered once');
  });

  it('runs the default example from the library and prints events', async () => {
    const flow = await red().getJson<FlowNode[]>(examplePath(DEFAULT_EXAMPLE));
    await red().deploy(flow);
    const events = (): number => (red().log.match(/\[debug:events \(console\)\] \[severity \d+\] \w+_events on /g) ?? []).length;
    await red().waitUntil(() => /\[debug:replay done\]/.test(red().log), 60_000, 'the replay finished');
    await red().waitUntil(() => events() >= 20, 30_000, 'events were printed');
    const errors = red().log.split('\n').filter((l) => /\[error\]|\[warn\] \[streamevmon-/.test(l));
    assert.deepEqual(errors, [], 'no errors or warnings from our nodes');
  });
});
