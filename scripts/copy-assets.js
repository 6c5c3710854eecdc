'use strict';
// Node-RED looks for a node's .html, icons/ and locales/ beside its compiled .js:
// copy them from nodes/ and icons/ into dist/nodes/ after tsc. In .html files, a line
// `// @include <file>` is replaced by that file (relative to nodes/), so the editor
// definitions keep literal defaults (node-red-dev reads them) without copies in the source.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const nodesDir = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');
const INCLUDE = /^(\s*)\/\/ @include (\S+).*$/;

function expandIncludes(text, file) {
  return text.split('\n').map((line) => {
    const m = INCLUDE.exec(line);
    if (!m) return line;
    const included = path.join(nodesDir, m[2]);
    if (!fs.existsSync(included)) throw new Error(`${file}: included file ${m[2]} not found`);
    return fs.readFileSync(included, 'utf8').replace(/\n$/, '').split('\n').map((l) => m[1] + l).join('\n');
  }).join('\n');
}

function copyDir(from, to, filter) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst, filter);
    else if (!filter || filter(entry.name)) {
      if (entry.name.endsWith('.html')) fs.writeFileSync(dst, expandIncludes(fs.readFileSync(src, 'utf8'), src));
      else fs.copyFileSync(src, dst);
    }
  }
}

copyDir(nodesDir, out, (name) => name.endsWith('.html') || name.endsWith('.json'));
copyDir(path.join(root, 'icons'), path.join(out, 'icons'));
