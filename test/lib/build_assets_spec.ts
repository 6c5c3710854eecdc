/**
 * What the build places beside each compiled node, where Node-RED looks for it: the editor
 * .html (with includes expanded, so every definition is a literal), and the icon it names.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';

function projectRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'node-red-contrib-streamevmon') return dir;
  }
  throw new Error('package root not found');
}

describe('built node assets', () => {
  const root = projectRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const nodes = Object.entries(pkg['node-red'].nodes as Record<string, string>);

  it('lists node sets', () => assert.ok(nodes.length >= 10));

  for (const [type, js] of nodes) {
    it(`${type}: .html beside the .js, literal definition, icon present`, () => {
      const html = path.join(root, js.replace(/\.js$/, '.html'));
      assert.ok(fs.existsSync(path.join(root, js)), `${js} is built`);
      assert.ok(fs.existsSync(html), `${html} is copied`);
      const text = fs.readFileSync(html, 'utf8');
      assert.match(text, new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{`));
      assert.doesNotMatch(text, /@include/, 'includes are expanded');
      assert.match(text, new RegExp(`data-help-name="${type}"`), 'help text exists');
      const icon = /icon: '([^']+)'/.exec(text)?.[1];
      if (icon && !icon.startsWith('font-awesome/')) {
        assert.ok(fs.existsSync(path.join(path.dirname(html), 'icons', icon)), `icon ${icon} is copied`);
      }
    });
  }
});
