/**
 * The pieces behind resolveSpecs, each against the npm behaviour it imitates.
 */
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { installScripts } from '../../src/resolve/install-scripts.js';
import { localPathOf } from '../../src/resolve/local-specs.js';
import { DEFAULT_REGISTRY, effectiveCache, effectiveRegistry } from '../../src/resolve/options.js';
import { scriptOrder } from '../../src/resolve/script-order.js';
import { BadTarballError, extractedPath, readTarball, type TarballFacts } from '../../src/resolve/tarball-reader.js';
import { toResolveError } from '../../src/resolve/errors.js';
import { mapLimit } from '../../src/resolve/limit.js';
import { fixturesRoot } from '../helpers/local-registry.js';
import { rawTarball, removeTempDirs, type RawEntry } from './support.js';

after(removeTempDirs);

const pkg = (extra: Record<string, unknown> = {}) => JSON.stringify({ name: 'x', version: '1.0.0', ...extra });

function read(entries: RawEntry[], opts?: { gzip?: boolean }): Promise<TarballFacts> {
  const bytes = rawTarball(entries, opts);
  // Small chunks, as the network delivers them.
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 100) chunks.push(bytes.subarray(i, i + 100));
  return readTarball(Readable.from(chunks), null);
}

describe('installScripts (npm rebuild rules)', () => {
  test('only preinstall/install/postinstall, in run order', () => {
    const r = installScripts({ scripts: { test: 't', postinstall: 'c', prepare: 'p', preinstall: 'a', install: 'b' } }, false);
    assert.deepEqual(Object.entries(r.scripts), [
      ['preinstall', 'a'],
      ['install', 'b'],
      ['postinstall', 'c'],
    ]);
    assert.equal(r.implicitNodeGyp, false);
  });

  test('binding.gyp without install/preinstall → implicit node-gyp rebuild', () => {
    assert.deepEqual(installScripts({}, true), { scripts: { install: 'node-gyp rebuild' }, implicitNodeGyp: true });
    assert.deepEqual(installScripts({ scripts: { postinstall: 'p' } }, true), {
      scripts: { install: 'node-gyp rebuild', postinstall: 'p' },
      implicitNodeGyp: true,
    });
  });

  test('an install or preinstall script, or gypfile: false, turns the implicit build off', () => {
    assert.deepEqual(installScripts({ scripts: { install: 'make' } }, true), { scripts: { install: 'make' }, implicitNodeGyp: false });
    assert.deepEqual(installScripts({ scripts: { preinstall: 'x' } }, true), { scripts: { preinstall: 'x' }, implicitNodeGyp: false });
    assert.deepEqual(installScripts({ gypfile: false }, true), { scripts: {}, implicitNodeGyp: false });
  });

  test('empty and non-string scripts do not run (npm normalize drops them)', () => {
    assert.deepEqual(installScripts({ scripts: { install: '', postinstall: 42, preinstall: null } }, false), { scripts: {}, implicitNodeGyp: false });
    // `!scripts.install` is true for '', so npm still adds node-gyp rebuild
    assert.deepEqual(installScripts({ scripts: { install: '' } }, true), { scripts: { install: 'node-gyp rebuild' }, implicitNodeGyp: true });
    assert.deepEqual(installScripts({ scripts: 'postinstall' }, false), { scripts: {}, implicitNodeGyp: false });
  });
});

describe('scriptOrder', () => {
  const p = (location: string, ...dependencies: string[]) => ({ location, dependencies });
  const order = (ps: ReturnType<typeof p>[]) => scriptOrder(ps).map((x) => x.location);

  test('a hoisted dependency runs before its dependent even when it sorts after it', () => {
    assert.deepEqual(order([p('node_modules/a', 'node_modules/b'), p('node_modules/b')]), ['node_modules/b', 'node_modules/a']);
  });

  test('otherwise deepest first, then by location', () => {
    assert.deepEqual(order([p('node_modules/z'), p('node_modules/a/node_modules/c'), p('node_modules/a'), p('node_modules/m')]), [
      'node_modules/a/node_modules/c',
      'node_modules/a',
      'node_modules/m',
      'node_modules/z',
    ]);
  });

  test('cycles are broken deterministically and every package appears once', () => {
    const ps = [p('node_modules/b', 'node_modules/a'), p('node_modules/a', 'node_modules/b'), p('node_modules/c', 'node_modules/a')];
    assert.deepEqual(order(ps), ['node_modules/a', 'node_modules/b', 'node_modules/c']);
    assert.deepEqual(order([...ps].reverse()), ['node_modules/a', 'node_modules/b', 'node_modules/c']);
  });

  test('dependencies outside the set and self-edges are ignored', () => {
    assert.deepEqual(order([p('node_modules/a', 'node_modules/a', 'node_modules/gone')]), ['node_modules/a']);
  });
});

describe('readTarball (reads what pacote would extract)', () => {
  test('the top folder can have any name', async () => {
    const f = await read([{ path: 'whatever/package.json', body: pkg({ scripts: { install: 'i' } }) }]);
    assert.deepEqual(f.manifest.scripts, { install: 'i' });
    assert.equal(f.hasBindingGyp, false);
    assert.match(f.sha512, /^sha512-[A-Za-z0-9+/]{86}==$/);
  });

  test('plain (not gzipped) tar works too', async () => {
    const f = await read([{ path: 'package/package.json', body: pkg() }], { gzip: false });
    assert.equal(f.manifest.name, 'x');
  });

  test('a repeated package.json: the last one wins, as on disk', async () => {
    const f = await read([
      { path: 'package/package.json', body: pkg() },
      { path: 'package/package.json', body: pkg({ scripts: { postinstall: 'evil' } }) },
    ]);
    assert.deepEqual(f.manifest.scripts, { postinstall: 'evil' });
  });

  test('only a regular binding.gyp at the package root counts', async () => {
    assert.equal((await read([{ path: 'package/package.json', body: pkg() }, { path: 'package/binding.gyp', body: '{}' }])).hasBindingGyp, true);
    assert.equal((await read([{ path: 'package/package.json', body: pkg() }, { path: 'package/./binding.gyp', body: '{}' }])).hasBindingGyp, true);
    assert.equal((await read([{ path: 'package/package.json', body: pkg() }, { path: 'package/src/binding.gyp', body: '{}' }])).hasBindingGyp, false);
    assert.equal(
      (await read([{ path: 'package/package.json', body: pkg() }, { path: 'package/binding.gyp', type: 'SymbolicLink', linkpath: 'x.gyp' }])).hasBindingGyp,
      false,
      'pacote never extracts links',
    );
  });

  test('paths with .. are skipped, as tar refuses them', async () => {
    await assert.rejects(read([{ path: 'package/../package.json', body: pkg() }]), BadTarballError);
    assert.equal(extractedPath('package/../x'), null);
    assert.equal(extractedPath('package//package.json'), 'package.json');
    assert.equal(extractedPath('./package/package.json'), 'package/package.json');
  });

  test('a byte-order mark is tolerated, bad JSON and a missing package.json are not', async () => {
    assert.equal((await read([{ path: 'package/package.json', body: '\uFEFF' + pkg() }])).manifest.version, '1.0.0');
    await assert.rejects(read([{ path: 'package/package.json', body: '{ nope' }]), /not valid JSON/);
    await assert.rejects(read([{ path: 'package/package.json', body: '[1]' }]), /not a JSON object/);
    await assert.rejects(read([{ path: 'package/index.js', body: '' }]), /no package\.json/);
  });

  test('truncated or non-tar input is rejected', async () => {
    const bytes = rawTarball([{ path: 'package/package.json', body: pkg() }, { path: 'package/big', body: 'x'.repeat(5000) }], { gzip: false });
    // cut inside the second file's body: tar (and so npm) notices; a cut between entries it does not
    await assert.rejects(readTarball(Readable.from([bytes.subarray(0, 1024 + 512 + 1000)]), null), (e: Error & { code?: string }) => e.code === 'TAR_BAD_ARCHIVE');
    await assert.rejects(readTarball(Readable.from([Buffer.from('hello world')]), null));
  });

  test('bundled folders are read on demand', async () => {
    const f = await read([
      { path: 'package/package.json', body: pkg() },
      { path: 'package/node_modules/@s/b/package.json', body: pkg({ name: '@s/b', scripts: { postinstall: 'b' } }) },
      { path: 'package/node_modules/@s/b/binding.gyp', body: '{}' },
      { path: 'package/node_modules/c/lib/package.json', body: '{ not json, and not a package folder' },
    ]);
    assert.deepEqual(f.nested('node_modules/@s/b'), { manifest: JSON.parse(pkg({ name: '@s/b', scripts: { postinstall: 'b' } })), hasBindingGyp: true });
    assert.equal(f.nested('node_modules/c'), null);
  });

  test('a source error wins over a parse error (integrity failures are reported as such)', async () => {
    const source = new Readable({ read() {} });
    const p = readTarball(source, null);
    source.push(Buffer.from('definitely not a tarball'));
    setImmediate(() => source.destroy(Object.assign(new Error('integrity'), { code: 'EINTEGRITY' })));
    await assert.rejects(p, (e: Error & { code?: string }) => e.code === 'EINTEGRITY');
  });
});

describe('spec classification (npm-package-arg)', () => {
  test('registry, git and URL specs are not local', async () => {
    for (const spec of ['is-number', 'is-number@^7', '@scope/name@next', 'npm:foo@1', 'https://example.invalid/x.tgz', 'git+ssh://git@example.invalid/x.git', 'user/repo-that-does-not-exist-here']) {
      assert.equal(await localPathOf(spec), null, spec);
    }
  });

  test('paths, file: specs and tarball names are local', async () => {
    assert.equal(await localPathOf('./x'), './x');
    assert.equal(await localPathOf('../x.tgz'), '../x.tgz');
    assert.equal(await localPathOf('/abs/dir'), '/abs/dir');
    assert.equal(await localPathOf('pkg-1.0.0.tgz'), 'pkg-1.0.0.tgz');
    assert.equal(await localPathOf('file:/abs/x.tgz'), '/abs/x.tgz');
    assert.equal(await localPathOf('file:///abs/x.tgz'), '/abs/x.tgz');
    const existing = relative(process.cwd(), join(fixturesRoot(), 'bad'));
    assert.equal(await localPathOf(existing), existing, 'an existing relative folder beats GitHub shorthand');
  });
});

describe('options', () => {
  test('registry: explicit, then npm_config_registry, then the public registry; always with a trailing slash', () => {
    const saved = process.env.npm_config_registry;
    try {
      delete process.env.npm_config_registry;
      assert.equal(effectiveRegistry(), DEFAULT_REGISTRY);
      process.env.npm_config_registry = 'http://127.0.0.1:4873/sub';
      assert.equal(effectiveRegistry(), 'http://127.0.0.1:4873/sub/');
      assert.equal(effectiveRegistry('https://r.example/'), 'https://r.example/');
    } finally {
      if (saved === undefined) delete process.env.npm_config_registry;
      else process.env.npm_config_registry = saved;
    }
  });

  test('cache: explicit, else npm\'s', () => {
    assert.equal(effectiveCache('/c'), '/c');
    assert.match(effectiveCache(), /(\.npm|npm-cache)[\\/]_cacache$/);
  });
});

describe('error mapping', () => {
  const ctx = { registry: 'https://registry.example/' };
  test('npm error codes map to safe-install codes', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ code: 'E404', pkgid: 'x@*' }, 'E_PACKAGE_NOT_FOUND'],
      [{ code: 'ETARGET', name: 'x', wanted: '^9' }, 'E_PACKAGE_NOT_FOUND'],
      [{ code: 'EINTEGRITY', expected: 'sha512-a', found: 'sha512-b' }, 'E_INTEGRITY'],
      [{ code: 'ECONNREFUSED' }, 'E_REGISTRY_UNREACHABLE'],
      [{ code: 'ENOTFOUND' }, 'E_REGISTRY_UNREACHABLE'],
      [{ code: 'ETIMEDOUT' }, 'E_REGISTRY_UNREACHABLE'],
      [{ code: 'E503', statusCode: 503 }, 'E_REGISTRY_UNREACHABLE'],
      [{ code: 'TAR_BAD_ARCHIVE' }, 'E_BAD_TARBALL'],
      [{ code: 'Z_DATA_ERROR' }, 'E_BAD_TARBALL'],
      [{ code: 'ENOENT', path: '/x' }, 'E_NOT_A_PACKAGE'],
      [{ code: 'ERESOLVE' }, 'E_RESOLVE'],
      [{ code: 'E403', statusCode: 403 }, 'E_RESOLVE'],
      [{ code: 'ESOMETHINGELSE' }, 'E_RESOLVE'],
    ];
    for (const [fields, code] of cases) {
      const err = toResolveError(Object.assign(new Error('boom\nsecond line'), fields), ctx);
      assert.equal(err.code, code, JSON.stringify(fields));
      assert.doesNotMatch(err.message, /\n/);
      assert.ok(err.cause, 'keeps the cause');
    }
  });
});

describe('mapLimit', () => {
  test('caps concurrency, keeps order, and settles in-flight work before throwing', async () => {
    let running = 0;
    let peak = 0;
    const finished: number[] = [];
    const work = async (n: number) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n === 1 ? 5 : 20));
      running--;
      finished.push(n);
      if (n === 1) throw new Error('one failed');
      return n * 10;
    };
    assert.deepEqual(await mapLimit([0, 2, 3, 4, 5], 2, work), [0, 20, 30, 40, 50]);
    assert.equal(peak, 2);
    finished.length = 0;
    await assert.rejects(mapLimit([0, 1, 2, 3, 4, 5], 3, work), /one failed/);
    assert.equal(running, 0, 'nothing still running when the error arrives');
    assert.ok(!finished.includes(5), 'no new work started after the failure');
  });
});
