/**
 * Where secrets live on a developer machine. The table is ordered: the first matching entry
 * wins, so narrow entries (known_hosts) come before broad ones (anything else in ~/.ssh).
 * Grow it here; the credential-access rule only asks `classifySecret`.
 */
import type { Severity } from './types.js';
import { isInside, normalizePath, relativeInside, type SandboxPaths } from './paths.js';

/**
 * What a pattern is matched against:
 * - `home`: the path relative to the home folder
 * - `project`: the path relative to the project root
 * - `outside-package`: the basename, for any path that is not inside the package's own folder
 * - `absolute`: the whole normalised path
 */
export type SecretScope = 'home' | 'project' | 'outside-package' | 'absolute';

export interface SecretLocation {
  /** Shown in findings: what the file gives away. */
  label: string;
  scope: SecretScope;
  pattern: RegExp;
  /** Severity of a successful read. */
  severity: Severity;
  /** The package manager's own config: npm reads it whenever a script runs `npm run …`. */
  packageManagerConfig?: boolean;
}

export const SECRET_LOCATIONS: readonly SecretLocation[] = [
  // medium, not high: ~/.npmrc is also where proxy, registry and CA settings live, and
  // installers that download (cypress) read it for them. A token seen leaving is still critical.
  { label: 'npm credentials', scope: 'home', pattern: /^\.npmrc$/, severity: 'medium', packageManagerConfig: true },
  { label: 'npm credentials (project)', scope: 'project', pattern: /^\.npmrc$/, severity: 'medium', packageManagerConfig: true },
  { label: 'yarn credentials', scope: 'home', pattern: /^\.yarnrc(\.yml)?$/, severity: 'high', packageManagerConfig: true },
  // Host lists, not keys: they reveal where the developer logs in, nothing that unlocks it.
  { label: 'SSH host list', scope: 'home', pattern: /^\.ssh\/(known_hosts(\.old)?|authorized_keys)$/, severity: 'medium' },
  // Keys can have any name (deploy_key, github), so everything else in ~/.ssh counts.
  { label: 'SSH key or config', scope: 'home', pattern: /^\.ssh\/.+/, severity: 'high' },
  { label: 'AWS credentials', scope: 'home', pattern: /^\.aws\/(credentials|config)$/, severity: 'high' },
  { label: 'GitHub CLI token', scope: 'home', pattern: /^\.config\/gh\/hosts\.yml$/, severity: 'high' },
  { label: 'git credentials', scope: 'home', pattern: /^\.git-credentials$/, severity: 'high' },
  { label: 'Docker registry credentials', scope: 'home', pattern: /^\.docker\/config\.json$/, severity: 'high' },
  { label: 'Kubernetes credentials', scope: 'home', pattern: /^\.kube\/config$/, severity: 'high' },
  { label: 'netrc credentials', scope: 'home', pattern: /^\.netrc$/, severity: 'high' },
  { label: 'PyPI credentials', scope: 'home', pattern: /^\.pypirc$/, severity: 'high' },
  // Index URLs in pip config carry basic-auth credentials for private indexes.
  { label: 'pip credentials', scope: 'home', pattern: /^(\.config\/pip\/pip\.conf|\.pip\/pip\.conf)$/, severity: 'high' },
  { label: 'Google Cloud credentials', scope: 'home', pattern: /^\.config\/gcloud\/(.+\.json|credentials\.db|access_tokens\.db|legacy_credentials\/.+)$/, severity: 'high' },
  { label: 'Azure credentials', scope: 'home', pattern: /^\.azure\/.+/, severity: 'high' },
  { label: 'Terraform credentials', scope: 'home', pattern: /^\.terraform\.d\/credentials\.tfrc\.json$/, severity: 'high' },
  { label: 'GnuPG keys', scope: 'home', pattern: /^\.gnupg\/(private-keys-v1\.d\/.+|secring\.gpg|pubring\.kbx)$/, severity: 'high' },
  {
    label: 'cryptocurrency wallet',
    scope: 'home',
    pattern: /^(\.bitcoin\/wallet\.dat|\.bitcoin\/wallets\/.+|\.ethereum\/keystore\/.+|\.electrum\/wallets\/.+|\.config\/solana\/id\.json|\.config\/Exodus\/.+|\.local\/share\/io\.metamask.*)$/,
    severity: 'high',
  },
  {
    label: 'browser profile (passwords, cookies)',
    scope: 'home',
    pattern: /^(\.config\/(google-chrome|chromium|BraveSoftware\/Brave-Browser|microsoft-edge)\/[^/]+\/(Login Data|Cookies|Web Data|Local State)|\.config\/(google-chrome|chromium|BraveSoftware\/Brave-Browser|microsoft-edge)\/Local State|\.mozilla\/firefox\/[^/]+\/(logins\.json|key4\.db|cookies\.sqlite))$/,
    severity: 'high',
  },
  // Templates (.env.example) hold no secrets by convention; a package's own .env is its business.
  {
    label: 'environment file',
    scope: 'outside-package',
    pattern: /^\.env(?!\.(example|sample|template|dist)$)(\.[^/]+)?$/,
    severity: 'high',
  },
  // Another process's environment (or its own, bypassing process.env) carries CI tokens.
  { label: 'process environment', scope: 'absolute', pattern: /^\/proc\/(\d+|self|thread-self)\/(task\/\d+\/)?environ$/, severity: 'high' },
];

export interface SecretMatch {
  location: SecretLocation;
  path: string;
}

export function classifySecret(
  path: string,
  paths: SandboxPaths,
  table: readonly SecretLocation[] = SECRET_LOCATIONS,
): SecretMatch | undefined {
  const normal = normalizePath(path);
  for (const location of table) {
    const subject = subjectFor(normal, location.scope, paths);
    if (subject !== null && location.pattern.test(subject)) return { location, path: normal };
  }
  return undefined;
}

function subjectFor(path: string, scope: SecretScope, paths: SandboxPaths): string | null {
  switch (scope) {
    case 'home':
      return relativeInside(path, paths.home);
    case 'project':
      return relativeInside(path, paths.projectDir);
    case 'outside-package':
      return isInside(path, paths.packageDir) ? null : (path.split('/').pop() ?? null);
    case 'absolute':
      return path;
  }
}
