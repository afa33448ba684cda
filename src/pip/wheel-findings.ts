/**
 * What a wheel does when it lands, read from its members before it is installed. A wheel runs
 * no code at install time, but some of what it installs runs later without being asked for:
 *
 * - a `.pth` file in site-packages whose lines start with `import` runs at EVERY start of that
 *   Python (site.py executes them): `persistence`, high;
 * - `sitecustomize.py` / `usercustomize.py` at the top of site-packages, same effect: `persistence`, high;
 * - a command (console/gui entry point or `.data/scripts` file) named like a system tool
 *   (`python`, `pip`, `sudo`, `ls`...) shadows it on PATH once the venv is active: `persistence`, high;
 *   other commands: `write-outside-package`, info (they are listed so nothing lands unseen);
 * - `.data/data` files (installed under the environment's prefix, outside site-packages):
 *   `write-outside-package`, low, or medium when they go to etc/, bin/, or dot folders;
 * - archive members that would land outside the environment (absolute, `..`, setuid, unknown
 *   schemes), or a wheel whose metadata names another project than it claims: `tampering`, critical;
 * - native extensions (`.so`): `native-build`, info.
 *
 * No new rule ids: these map onto ARCHITECTURE.md's. Evidence is empty (no sandbox event):
 * the message names the member.
 */
import type { Finding } from '../rules/types.js';

export interface WheelInspection {
  name: string;
  version: string;
  filenameName: string;
  filenameVersion: string;
  tags: string[];
  compatible: boolean;
  requires: string[];
  pth: { path: string; exec: string[]; execCount: number }[];
  customize: string[];
  scripts: { path: string; firstLine: string }[];
  data: string[];
  headers: string[];
  entryPoints: { group: string; name: string; target: string }[];
  native: string[];
  unsafe: string[];
  topLevel: string[];
  files: number;
}

/** Commands a package must not take over: the interpreter, the installers, everyday tools. */
const SHADOWED = new Set([
  'python', 'python3', 'python2', 'pip', 'pip3', 'pipx', 'uv', 'uvx', 'poetry', 'pdm', 'hatch', 'tox', 'nox', 'conda',
  'sh', 'bash', 'zsh', 'dash', 'fish', 'env', 'sudo', 'su', 'doas', 'ssh', 'scp', 'sftp', 'git', 'curl', 'wget',
  'ls', 'cat', 'cp', 'mv', 'rm', 'cd', 'echo', 'grep', 'find', 'ps', 'kill', 'chmod', 'chown', 'tar', 'make', 'gcc', 'cc',
  'node', 'npm', 'npx', 'pnpm', 'yarn', 'docker', 'kubectl', 'aws', 'gcloud', 'az', 'gh', 'gpg', 'openssl', 'safe-install',
]);

const short = (s: string, n = 100): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function wheelFindings(w: WheelInspection, expected: { name: string; version: string } | null): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: Finding['rule'], severity: Finding['severity'], message: string) => findings.push({ rule, severity, message, evidence: [] });
  if (w.unsafe.length > 0) {
    add('tampering', 'critical', `the wheel has members that would land outside the environment: ${w.unsafe.slice(0, 3).join(', ')}${w.unsafe.length > 3 ? ` (+${w.unsafe.length - 3} more)` : ''}`);
  }
  if (w.name !== w.filenameName) add('tampering', 'critical', `the wheel's file name says ${w.filenameName} but its metadata installs ${w.name}`);
  if (expected && (w.name !== expected.name || w.version !== expected.version)) {
    add('tampering', 'critical', `the build of ${expected.name} ${expected.version} produced a wheel of ${w.name} ${w.version}`);
  }
  for (const pth of w.pth) {
    if (pth.execCount > 0) {
      add('persistence', 'high', `installs ${pth.path} into site-packages with ${pth.execCount} executable line${pth.execCount === 1 ? '' : 's'}: Python runs them at every start (${short(pth.exec[0] ?? '')})`);
    }
  }
  for (const file of w.customize) add('persistence', 'high', `installs ${file} into site-packages: Python runs it at every start`);
  const commands = [
    ...w.entryPoints.map((e) => ({ name: e.name, what: `${e.group === 'gui_scripts' ? 'gui' : 'console'} script → ${e.target}` })),
    ...w.scripts.map((s) => ({ name: s.path.split('/').pop() ?? s.path, what: `script file${s.firstLine.startsWith('#!') ? ` (${short(s.firstLine, 60)})` : ''}` })),
  ];
  const shadowing = commands.filter((c) => SHADOWED.has(c.name.toLowerCase()));
  for (const c of shadowing) add('persistence', 'high', `installs a command named ${c.name} (${c.what}): it shadows the system's ${c.name} wherever this environment is on PATH`);
  const plain = commands.filter((c) => !SHADOWED.has(c.name.toLowerCase()));
  if (plain.length > 0) {
    add('write-outside-package', 'info', `installs command${plain.length === 1 ? '' : 's'} into the environment's bin/: ${plain.slice(0, 5).map((c) => `${c.name} (${c.what})`).join(', ')}${plain.length > 5 ? ` (+${plain.length - 5} more)` : ''}`);
  }
  if (w.data.length > 0) {
    const odd = w.data.filter((d) => /^(etc|bin|sbin|lib|lib64|usr|var)\//.test(d) || d.split('/').some((part) => part.startsWith('.')));
    const list = (odd.length > 0 ? odd : w.data).slice(0, 3).join(', ');
    add('write-outside-package', odd.length > 0 ? 'medium' : 'low', `installs ${w.data.length} data file${w.data.length === 1 ? '' : 's'} outside site-packages, under the environment's prefix: ${list}${w.data.length > 3 ? ' …' : ''}`);
  }
  if (w.headers.length > 0) add('write-outside-package', 'info', `installs ${w.headers.length} C header${w.headers.length === 1 ? '' : 's'} under the environment's include/`);
  if (w.native.length > 0) add('native-build', 'info', `contains ${w.native.length} native extension${w.native.length === 1 ? '' : 's'}: ${w.native.slice(0, 3).join(', ')}`);
  return findings;
}
