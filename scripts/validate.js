'use strict';
/*
 * `npm run validate`: the flow-library scorecard (node-red-dev validate, pinned 0.1.6) on this
 * package, offline from the flow-library catalogue (node-red-conventions.md §12).
 *
 * node-red-dev reads the built editor files (dist/nodes/*.html), so build first. The catalogue
 * lookups are answered with an empty catalogue (scripts/offline-catalogue.js); the registry
 * checks (P06, P07, D02, D03) go to the npm registry as usual. Because P08 and N01 then compare
 * against nothing, this script checks our type names itself against Node-RED's core types and
 * the types of the InfluxDB/PostgreSQL packages users combine ours with.
 *
 * Exits non-zero unless every check passes. P04 passes with the warning "New Packages should use
 * a scoped name": expected, the project keeps its unscoped node-red-contrib-* name.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
/** Every check node-red-dev 0.1.6 runs (P02 is disabled in the tool). */
const CHECKS = ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03'];
/** Types of packages used beside ours (node-red-contrib-influxdb, node-red-contrib-postgresql). */
const THIRD_PARTY_TYPES = ['influxdb', 'influxdb in', 'influxdb out', 'influxdb batch', 'postgreSQLConfig', 'postgresql'];
const TIMEOUT_MS = 5 * 60 * 1000;

const REGISTER = /RED\.nodes\.registerType\(\s*(['"])([^'"]+)\1\s*,\s*\{/g;

/** Type names registered by the editor file(s) given, with each one's category if literal. */
function registeredTypes(htmlFiles) {
  const types = [];
  for (const file of htmlFiles) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(REGISTER)) {
      const category = /category:\s*['"]([^'"]+)['"]/.exec(text.slice(m.index, m.index + 2000));
      types.push({ type: m[2], category: category ? category[1] : undefined, file });
    }
  }
  return types;
}

function htmlFilesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return htmlFilesUnder(p);
    return e.name.endsWith('.html') ? [p] : [];
  });
}

/** Our node sets' built files; a list of problems if the build is missing. */
function builtNodeSets(pkg) {
  const problems = [];
  const html = [];
  for (const [set, js] of Object.entries(pkg['node-red'].nodes)) {
    const jsFile = path.join(root, js);
    const htmlFile = jsFile.replace(/\.c?js$/, '.html');
    if (!fs.existsSync(jsFile)) problems.push(`${set}: ${js} is not built (run npm run build)`);
    if (!fs.existsSync(htmlFile)) problems.push(`${set}: ${path.relative(root, htmlFile)} is missing (run npm run build)`);
    else html.push(htmlFile);
  }
  return { problems, html };
}

/** What node-red-dev's N01 cannot see offline: collisions with core and neighbouring packages. */
function typeNameProblems(ours) {
  const coreDir = path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [root] }));
  const core = new Set(registeredTypes(htmlFilesUnder(path.join(coreDir, 'core'))).map((t) => t.type));
  if (core.size < 30) return [`found only ${core.size} core node types under ${coreDir}: cannot check names`];
  const problems = [];
  const seen = new Set();
  for (const { type } of ours) {
    if (seen.has(type)) problems.push(`${type} is registered twice in this package`);
    seen.add(type);
    if (core.has(type)) problems.push(`${type} collides with a Node-RED core node type`);
    if (THIRD_PARTY_TYPES.includes(type)) problems.push(`${type} collides with node-red-contrib-influxdb/-postgresql`);
    if (!type.startsWith('streamevmon-')) problems.push(`${type} lacks the streamevmon- prefix`);
  }
  return problems;
}

/** Run node-red-dev validate with the catalogue stub; resolves with its exit code and output. */
function runNodeRedDev(scorecardFile) {
  const cli = require.resolve('node-red-dev/bin/run', { paths: [root] });
  const stub = path.join(__dirname, 'offline-catalogue.js');
  const nodeOptions = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(stub)}`].filter(Boolean).join(' ');
  return new Promise((resolve, reject) => {
    // stdin ignored: the tool opens a readline on it and would otherwise wait for a terminal.
    const child = spawn(process.execPath, [cli, 'validate', '-p', root, '-o', scorecardFile], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const echo = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), signal, output });
    });
  });
}

/** Problems in the scorecard: any check missing or not passing, nodes node-red-dev skipped. */
function scorecardProblems(scorecard, output, ours) {
  const problems = [];
  for (const id of CHECKS) {
    if (!scorecard[id]) problems.push(`${id} did not run`);
    else if (scorecard[id].test !== true) problems.push(`${id} failed: ${JSON.stringify(scorecard[id])}`);
  }
  // node-red-dev logs "Unable to parse" and carries on when an editor file does not parse, so
  // N01/N02 would pass without looking at that node: treat it as a failure.
  if (/Unable to parse/.test(output)) problems.push('node-red-dev could not parse an editor file (see above)');
  const checked = new Set((scorecard.N02 && scorecard.N02.nodes) || []);
  for (const { type, category } of ours) {
    if (category !== 'config' && !checked.has(type)) problems.push(`N02 did not see ${type} in any example`);
  }
  return problems;
}

async function main() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const built = builtNodeSets(pkg);
  if (built.problems.length) {
    built.problems.forEach((p) => console.error(`validate: ${p}`));
    return 1;
  }
  const ours = registeredTypes(built.html);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-validate-'));
  const scorecardFile = path.join(dir, 'scorecard.json');
  let problems;
  let scorecard = {};
  try {
    const run = await runNodeRedDev(scorecardFile);
    if (fs.existsSync(scorecardFile)) scorecard = JSON.parse(fs.readFileSync(scorecardFile, 'utf8'));
    problems = [
      ...(run.code !== 0 ? [`node-red-dev exited with ${run.signal || run.code}`] : []),
      ...scorecardProblems(scorecard, run.output, ours),
      ...typeNameProblems(ours),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  console.log('\n    ---Scorecard (offline catalogue)---');
  for (const id of CHECKS) console.log(`${scorecard[id] && scorecard[id].test === true ? 'pass' : 'FAIL'}  ${id}`);
  console.log(`${ours.length} node types checked by hand against Node-RED core and ${THIRD_PARTY_TYPES.join(', ')}`);
  console.log('P08/N01 compared against an empty catalogue (catalogue.nodered.org is not reachable offline).');
  console.log('P04 warns "New Packages should use a scoped name": expected for node-red-contrib-streamevmon.');
  if (problems.length) {
    problems.forEach((p) => console.error(`validate: ${p}`));
    return 1;
  }
  console.log('validate: every check passes');
  return 0;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { CHECKS, THIRD_PARTY_TYPES, registeredTypes, scorecardProblems };
