/**
 * One check against registry.npmjs.org itself (reachable from these machines), with a
 * throw-away cache so the user's npm cache is neither read nor written.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { resolveSpecs } from '../../src/resolve/index.js';
import { removeTempDirs, scratch, sha512Of } from './support.js';

after(removeTempDirs);

test('is-number@7.0.0 from the public registry, with its published integrity', async () => {
  const { workDir, cache } = await scratch();
  const tree = await resolveSpecs(['is-number@7.0.0'], { registry: 'https://registry.npmjs.org/', cache, workDir });

  assert.equal(tree.packages.length, 1);
  const p = tree.packages[0]!;
  assert.equal(p.name, 'is-number');
  assert.equal(p.version, '7.0.0');
  assert.equal(p.location, 'node_modules/is-number');
  assert.equal(p.integrity, 'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==');
  assert.equal(p.resolved, 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz');
  assert.deepEqual(p.scripts, {});
  assert.equal(p.implicitNodeGyp, false);
  assert.deepEqual(p.dependencies, []);
  assert.equal(await sha512Of(p.tarball), p.integrity);
  assert.deepEqual(tree.rootPackageJson.dependencies, { 'is-number': '7.0.0' });
});
