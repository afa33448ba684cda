/**
 * The ordinary, secret-free part of a home folder: a home holding nothing but credentials
 * would itself look staged.
 */
import type { DecoyBuilder } from './builder.js';

export function plantHome(b: DecoyBuilder): void {
  const { id } = b;
  b.file(
    '.gitconfig',
    `[user]\n\tname = ${id.fullName}\n\temail = ${id.email}\n[init]\n\tdefaultBranch = main\n[pull]\n\trebase = true\n[push]\n\tautoSetupRemote = true\n[core]\n\teditor = vim\n[credential]\n\thelper = store\n[alias]\n\tco = checkout\n\tst = status -sb\n\tlg = log --oneline --graph --decorate -20\n`,
    { mtime: b.ago(60, 300) },
  );
  b.file(
    '.node_repl_history',
    `${b.rand.sample(["require('crypto').randomUUID()", 'new Date().toISOString()', "JSON.parse(require('fs').readFileSync('package.json'))", 'process.versions', '[1,2,3].at(-1)', "Buffer.from('aGVsbG8=', 'base64').toString()"], 4).join('\n')}\n`,
    { mode: '0600', mtime: b.ago(1, 15) },
  );
  b.file(
    '.config/Code/User/settings.json',
    `${JSON.stringify({ 'editor.formatOnSave': true, 'editor.tabSize': 2, 'files.trimTrailingWhitespace': true, 'workbench.colorTheme': 'Default Dark Modern', 'git.autofetch': true }, null, 4)}\n`,
    { mtime: b.ago(20, 200) },
  );
  const xdg: [string, string][] = [
    ['DESKTOP', 'Desktop'],
    ['DOWNLOAD', 'Downloads'],
    ['TEMPLATES', 'Templates'],
    ['PUBLICSHARE', 'Public'],
    ['DOCUMENTS', 'Documents'],
    ['MUSIC', 'Music'],
    ['PICTURES', 'Pictures'],
    ['VIDEOS', 'Videos'],
  ];
  for (const [, folder] of xdg) {
    // Downloads is the one folder a developer touches every week.
    b.dir(folder, { mtime: folder === 'Downloads' ? b.ago(0.5, 10) : b.ago(30, 600) });
  }
  b.file(
    '.config/user-dirs.dirs',
    `${xdg.map(([key, folder]) => `XDG_${key}_DIR="$HOME/${folder}"`).join('\n')}\n`,
    { mtime: b.ago(300, 700) },
  );
}
