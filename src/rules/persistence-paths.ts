/**
 * Places where a write makes code run again later, or changes how tools behave for good: the
 * table of the persistence rule. Ordered, first match wins; grow it here.
 *
 * Scopes as in ./secret-paths.ts: `home` is matched against the path relative to the home
 * folder, `project` relative to the project root, `absolute` against the whole path, and `any`
 * against the whole path too but never inside the package's own folder or temp dirs (a
 * `git init` in /tmp writes sample hooks that hook nothing anyone uses).
 */
import { isInTmp, isInside, normalizePath, relativeInside, type SandboxPaths } from './paths.js';

export interface PersistenceLocation {
  /** What the write hijacks, for messages and grouping. */
  label: string;
  scope: 'home' | 'project' | 'absolute' | 'any';
  pattern: RegExp;
}

export const PERSISTENCE_LOCATIONS: readonly PersistenceLocation[] = [
  {
    label: 'shell startup file',
    scope: 'home',
    pattern: /^(\.bashrc|\.bash_profile|\.bash_login|\.bash_logout|\.profile|\.zshrc|\.zshenv|\.zprofile|\.zlogin|\.kshrc|\.config\/fish\/(config\.fish|conf\.d\/.+))$/,
  },
  { label: 'shell startup file', scope: 'absolute', pattern: /^\/etc\/(profile|profile\.d\/.+|bash\.bashrc|zsh\/.+|environment)$/ },
  { label: 'crontab', scope: 'absolute', pattern: /^\/(var\/spool\/cron\/.+|etc\/cron[^/]*(\/.+)?|etc\/anacrontab)$/ },
  { label: 'systemd unit', scope: 'home', pattern: /^(\.config\/systemd\/user\/.+|\.local\/share\/systemd\/user\/.+)$/ },
  { label: 'systemd unit', scope: 'absolute', pattern: /^\/(etc\/systemd\/.+|lib\/systemd\/system\/.+|usr\/lib\/systemd\/(system|user)\/.+)$/ },
  { label: 'launchd agent', scope: 'home', pattern: /^Library\/LaunchAgents\/.+/ },
  { label: 'launchd agent', scope: 'absolute', pattern: /^\/Library\/(LaunchAgents|LaunchDaemons)\/.+/ },
  { label: 'autostart entry', scope: 'home', pattern: /^\.config\/autostart\/.+/ },
  { label: 'autostart entry', scope: 'absolute', pattern: /^\/etc\/xdg\/autostart\/.+/ },
  { label: 'SSH access', scope: 'home', pattern: /^\.ssh\/(authorized_keys2?|rc|config|environment)$/ },
  { label: 'git hook', scope: 'any', pattern: /\/\.git\/hooks\/.+/ },
  { label: 'git config', scope: 'home', pattern: /^(\.gitconfig|\.config\/git\/(config|attributes|hooks\/.+))$/ },
  { label: 'git config', scope: 'project', pattern: /^\.git\/config$/ },
  {
    label: 'package-manager config',
    scope: 'home',
    pattern: /^(\.npmrc|\.yarnrc|\.yarnrc\.yml|\.config\/pnpm\/rc|\.bunfig\.toml|\.config\/pip\/pip\.conf|\.pip\/pip\.conf|\.pydistutils\.cfg|\.condarc)$/,
  },
  { label: 'package-manager config', scope: 'project', pattern: /^(\.npmrc|\.yarnrc|\.yarnrc\.yml|\.pnpmfile\.cjs|bunfig\.toml|pip\.conf)$/ },
  { label: 'package-manager config', scope: 'absolute', pattern: /^\/(etc\/pip\.conf|etc\/npmrc|usr\/local\/etc\/npmrc)$/ },
  {
    label: 'coding-agent config',
    scope: 'home',
    pattern: /^(\.claude\/.+|\.claude\.json|\.cursor\/.+|\.codex\/.+|\.gemini\/.+|\.continue\/.+|\.aider[^/]*|\.codeium\/.+|\.windsurf\/.+|\.config\/github-copilot\/.+|\.config\/(Code|Code - Insiders|VSCodium|Cursor)\/User\/.+)$/,
  },
  {
    label: 'coding-agent config',
    scope: 'project',
    pattern: /^(\.claude\/.+|\.cursor\/.+|\.vscode\/.+|\.codex\/.+|\.gemini\/.+|\.mcp\.json|CLAUDE\.md|AGENTS\.md|GEMINI\.md|\.cursorrules|\.windsurfrules|\.github\/copilot-instructions\.md)$/,
  },
  // A program of that name earlier on PATH shadows the real one for every later command.
  { label: 'command on PATH', scope: 'home', pattern: /^(\.local\/bin|bin)\/.+/ },
  { label: 'preloaded library', scope: 'absolute', pattern: /^\/etc\/ld\.so\.preload$/ },
];

export interface PersistenceMatch {
  location: PersistenceLocation;
  path: string;
}

export function classifyPersistence(path: string, paths: SandboxPaths): PersistenceMatch | undefined {
  const normal = normalizePath(path);
  for (const location of PERSISTENCE_LOCATIONS) {
    const subject = subjectFor(normal, location.scope, paths);
    if (subject !== null && location.pattern.test(subject)) return { location, path: normal };
  }
  return undefined;
}

function subjectFor(path: string, scope: PersistenceLocation['scope'], paths: SandboxPaths): string | null {
  switch (scope) {
    case 'home':
      return relativeInside(path, paths.home);
    case 'project':
      return relativeInside(path, paths.projectDir);
    case 'absolute':
      return path;
    case 'any':
      return isInside(path, paths.packageDir) || isInTmp(path, paths) ? null : path;
  }
}
