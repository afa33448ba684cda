/** Two versions of one package as the sandbox would report them: honest 1.0.0, hijacked 1.0.1. */
import { assess } from '../../src/rules/index.js';
import { buildJsonReport, type JsonReport } from '../../src/report/json.js';
import { ChainBuilder, HOME } from '../rules/chain-builder.js';

const tool = { name: 'safe-install', version: '0.0.0-test' };

export function honestReport(): JsonReport {
  const b = new ChainBuilder();
  const s = b.pkg('popular-lib', '1.0.0').script('postinstall', 'node build.js', { wrapperExecs: ['node', 'build.js'] });
  s.file(s.root, 'write', `${s.pkg.dir}/build/out.txt`);
  // The old version already looked up its own registry: not new in the next one.
  s.dns(s.root, 'registry.npmjs.org', ['192.0.2.7']);
  const chain = b.build();
  return buildJsonReport({ chain, assessment: assess(chain), tool });
}

export function hijackedReport(): JsonReport {
  const b = new ChainBuilder();
  const pkg = b.pkg('popular-lib', '1.0.1');
  // What resolve fills from the packument: 1.0.0 had only the postinstall.
  pkg.info.previousScripts = { postinstall: 'node build.js' };
  const pre = pkg.script('preinstall', 'node setup.js', { wrapperExecs: ['node', 'setup.js'] });
  pre.file(pre.root, 'read', `${HOME}/.npmrc`);
  pre.process(['uname', '-a'], { exe: '/usr/bin/uname' });
  pre.dns(pre.root, 'telemetry.example', ['192.0.2.9']);
  pre.connect(pre.root, '192.0.2.9', 443, { hostname: 'telemetry.example' });
  pre.dns(pre.root, 'registry.npmjs.org', ['192.0.2.7']);
  const post = pkg.script('postinstall', 'node build.js', { wrapperExecs: ['node', 'build.js'] });
  post.file(post.root, 'write', `${pkg.dir}/build/out.txt`);
  const chain = b.build();
  return buildJsonReport({ chain, assessment: assess(chain), tool });
}
