'use strict';
// Node-RED looks for a node's .html, icons/ and locales/ beside its compiled .js:
// copy them from nodes/ and icons/ into dist/nodes/ after tsc.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'nodes');

function copyDir(from, to, filter) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst, filter);
    else if (!filter || filter(entry.name)) fs.copyFileSync(src, dst);
  }
}

copyDir(path.join(root, 'nodes'), out, (name) => name.endsWith('.html') || name.endsWith('.json'));
copyDir(path.join(root, 'icons'), path.join(out, 'icons'));
