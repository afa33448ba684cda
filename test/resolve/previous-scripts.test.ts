import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previousVersion, scriptsOfManifest } from '../../src/resolve/previous-scripts.js';

test('previousVersion: highest lower version published before it; null for a first release', () => {
  const packument = {
    versions: { '1.0.0': {}, '1.1.0': {}, '1.2.0': {}, '2.0.0': {}, '2.0.1-beta.1': {} },
    time: {
      '1.0.0': '2024-01-01T00:00:00Z',
      '1.1.0': '2024-02-01T00:00:00Z',
      '2.0.0': '2024-03-01T00:00:00Z',
      // A backport published after 2.0.0 is not 2.0.0's predecessor.
      '1.2.0': '2024-04-01T00:00:00Z',
      '2.0.1-beta.1': '2024-05-01T00:00:00Z',
    },
  };
  assert.equal(previousVersion(packument, '2.0.0'), '1.1.0');
  assert.equal(previousVersion(packument, '1.2.0'), '1.1.0');
  assert.equal(previousVersion(packument, '1.0.0'), null);
  assert.equal(previousVersion({ versions: { '1.0.0': {}, '1.0.1': {} } }, '1.0.1'), '1.0.0', 'no times: by semver');
});

test('scriptsOfManifest: lifecycle scripts in run order, implicit node-gyp from gypfile or hasInstallScript', () => {
  assert.deepEqual(scriptsOfManifest({ scripts: { postinstall: 'node a.js', test: 'x', preinstall: 'node b.js' } }), { preinstall: 'node b.js', postinstall: 'node a.js' });
  assert.deepEqual(scriptsOfManifest({ gypfile: true }), { install: 'node-gyp rebuild' });
  assert.deepEqual(scriptsOfManifest({ hasInstallScript: true }), { install: 'node-gyp rebuild' }, 'install scripts without any lifecycle script can only be binding.gyp');
  assert.deepEqual(scriptsOfManifest({ hasInstallScript: true, scripts: { postinstall: 'x' } }), { postinstall: 'x' });
  assert.deepEqual(scriptsOfManifest({ scripts: { test: 'x' } }), {});
});
