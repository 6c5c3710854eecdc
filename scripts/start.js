'use strict';
/*
 * `npm start`: run Node-RED (127.0.0.1:1880) with this package and the default flow, which
 * replays the bundled Latency TS I sample through the detectors and prints every event.
 *
 *   node scripts/start.js [--port N] [--user-dir DIR] [--flow FILE] [--fresh]
 *
 * The user directory (default .node-red/, git-ignored) gets this package linked into its
 * node_modules, as the palette manager would install it. Its flows.json is created from the
 * default flow when missing; --fresh replaces it (your edits in the editor are otherwise kept).
 */
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const DEFAULT_FLOW = path.join(root, 'examples', '00 - Default flow - Latency TS I sample through all detectors.json');

function parseArgs(argv) {
  const opts = { port: Number(process.env.PORT) || 1880, userDir: path.join(root, '.node-red'), flow: DEFAULT_FLOW, fresh: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--user-dir') opts.userDir = path.resolve(argv[++i]);
    else if (a === '--flow') opts.flow = path.resolve(argv[++i]);
    else if (a === '--fresh') opts.fresh = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) throw new Error('--port must be a TCP port');
  return opts;
}

/** Prepare a Node-RED user directory with this package installed (linked). */
function prepareUserDir({ userDir, port, flow, fresh }) {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  const pkgJson = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkgJson)) fs.writeFileSync(pkgJson, JSON.stringify({ name: 'node-red-project', private: true }, null, 2));
  const link = path.join(userDir, 'node_modules', 'node-red-contrib-streamevmon');
  try {
    if (fs.realpathSync(link) !== root) fs.rmSync(link, { recursive: true, force: true });
  } catch {
    fs.rmSync(link, { recursive: true, force: true });
  }
  if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');

  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    flowFilePretty: true,
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // "file" keeps detector state across restarts (see the detectors' "Keep state" option).
    contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem' } },
  }, null, 2)};\n`);

  const flows = path.join(userDir, 'flows.json');
  if (fresh || !fs.existsSync(flows)) fs.copyFileSync(flow, flows);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  prepareUserDir(opts);
  const red = require.resolve('node-red/red.js', { paths: [root] });
  const child = spawn(process.execPath, [red, '-u', opts.userDir, '-s', path.join(opts.userDir, 'settings.js')], {
    stdio: 'inherit',
    env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: '1' },
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (require.main === module) main();
module.exports = { prepareUserDir, parseArgs };
