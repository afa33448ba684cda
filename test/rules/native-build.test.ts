import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeBuildRule } from '../../src/rules/native-build.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('native-build: node-gyp, make and compilers are one info finding per script', () => {
  const b = new ChainBuilder();
  const s = b.pkg('addon').script('install', 'node-gyp rebuild', { implicit: true });
  const gyp = s.process(['node', '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', 'rebuild'], { exe: '/usr/local/bin/node' });
  const make = s.process(['make', 'BUILDTYPE=Release', '-C', 'build'], { parent: gyp });
  const gxx = s.process(['g++', '-o', 'Release/obj.target/addon.o', '../addon.cc'], { parent: make });
  const cc1 = s.process(['/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus', '-quiet'], { parent: gxx });
  const findings = run(nativeBuildRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'info');
  assert.deepEqual(findings[0]?.evidence, [gyp.id, make.id, gxx.id, cc1.id]);
  assert.match(findings[0]?.message ?? '', /install script compiles native code \(node-gyp, make, g\+\+, cc1plus\)/);
});

test('native-build: cross and versioned compiler names count', () => {
  const b = new ChainBuilder();
  const s = b.pkg('x').script('postinstall', 'node build.js');
  s.process(['x86_64-linux-gnu-gcc-12', '-c', 'a.c']);
  assert.equal(run(nativeBuildRule, b.build()).length, 1);
});

test('native-build: look-alikes (node-gyp-build, makeself, ccache-less node) do not fire', () => {
  const b = new ChainBuilder();
  const s = b.pkg('prebuilt').script('install', 'node-gyp-build');
  s.process(['node', '/home/alex/code/webapp/node_modules/.bin/node-gyp-build'], { exe: '/usr/local/bin/node' });
  s.process(['makeself', 'x']);
  s.process(['ldconfig', '-p']);
  s.process(['node', 'scripts/make.js']);
  assert.deepEqual(run(nativeBuildRule, b.build()), []);
});
