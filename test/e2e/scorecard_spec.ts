/**
 * The flow-library scorecard stays green: scripts/validate.js (npm run validate) runs
 * node-red-dev validate on the built package, offline from the catalogue, and must pass every
 * check. P06, P07, D02 and D03 ask the npm registry.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './nodered';

describe('flow-library scorecard (node-red-dev validate)', function () {
  this.timeout(300_000);

  it('passes every check', async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'validate.js')], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr }));
    });
    assert.equal(code, 0, `validate failed:\n${output}`);
    for (const id of ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03']) {
      assert.match(output, new RegExp(`^pass  ${id}$`, 'm'), `${id} passes`);
    }
    assert.match(output, /validate: every check passes/);
  });
});
