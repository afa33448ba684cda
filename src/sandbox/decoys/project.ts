/**
 * The project the packages are "installed into": a small Node web app with a git history,
 * a committed `.env.example` and an ignored `.env` holding the real-looking secrets.
 */
import type { DecoyBuilder } from './builder.js';
import { openaiProjectKey, password, stripeSecretKey } from './formats.js';
import { gitRepo } from './git.js';

const INDEX_JS_V1 = `const http = require('node:http');

const port = Number(process.env.PORT || 3000);

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, path: req.url }));
});

server.listen(port, () => {
  console.log(\`webapp listening on http://localhost:\${port}\`);
});
`;

const INDEX_JS = `const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const started = Date.now();

function health(res) {
  res.end(JSON.stringify({ status: 'ok', uptime: Math.round((Date.now() - started) / 1000) }));
}

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/health') return health(res);
  res.statusCode = 404;
  res.end(JSON.stringify({ error: 'not found' }));
});

server.listen(port, () => {
  console.log(\`webapp listening on http://localhost:\${port}\`);
});
`;

const README = `# webapp

Customer dashboard API.

## Development

\`\`\`sh
cp .env.example .env   # then fill in the secrets (ask in #backend)
npm install
npm run dev
\`\`\`

The API listens on http://localhost:3000 (\`GET /health\`).
`;

const GITIGNORE = `node_modules/
dist/
coverage/
.env
.env.local
*.log
.DS_Store
`;

const ENV_EXAMPLE = `DATABASE_URL=postgres://app:changeme@localhost:5432/app
STRIPE_SECRET_KEY=sk_test_replace_me
OPENAI_API_KEY=
SESSION_SECRET=
`;

/** What the project's package.json says, whichever packages are being installed. */
export function realisticPackageJson(scanned: Record<string, unknown>): Record<string, unknown> {
  const dependencies = (scanned.dependencies ?? {}) as Record<string, string>;
  return {
    name: 'webapp',
    version: '1.4.2',
    private: true,
    description: 'Customer dashboard API',
    main: 'src/index.js',
    scripts: { start: 'node src/index.js', dev: 'node --watch src/index.js', test: 'node --test' },
    engines: { node: '>=20' },
    dependencies,
  };
}

function packageJsonText(pkg: Record<string, unknown>): string {
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * @param real the real project is laid out over it (`--sandbox-root`): only the ignored `.env`
 *   and the git metadata are planted, which the real project's copy never carries (see
 *   src/install/project-copy.ts), so its own sources are not mixed with made-up ones.
 */
export function plantProject(b: DecoyBuilder, scanned: Record<string, unknown>, real = false): void {
  const dir = b.id.projectDir;
  const rel = (p: string): string => `${dir}/${p}`;

  const dbPassword = password(b.rand, 24);
  const databaseUrl = `postgres://app:${dbPassword}@db.internal.example:5432/app`;
  b.secret(dbPassword, rel('.env'), 'database password');
  b.secret(databaseUrl, rel('.env'), 'database url');
  const stripe = b.secret(stripeSecretKey(b.rand), rel('.env'), 'stripe secret key');
  const openai = b.secret(openaiProjectKey(b.rand), rel('.env'), 'openai api key');
  const session = b.secret(b.rand.hex(32), rel('.env'), 'session secret');
  const env = `DATABASE_URL=${databaseUrl}\nSTRIPE_SECRET_KEY=${stripe}\nOPENAI_API_KEY=${openai}\nSESSION_SECRET=${session}\nPORT=3000\n`;

  const t0 = b.ago(40, 60);
  const t1 = t0 + b.rand.between(2, 6) * 3600;
  const t2 = b.ago(3, 12);
  // HEAD's package.json predates the dependency being installed now: `git diff` shows it added.
  const committedPkg = packageJsonText({ ...realisticPackageJson(scanned), dependencies: {} });
  const v1 = { 'README.md': README, '.gitignore': GITIGNORE };
  const v2 = { ...v1, '.env.example': ENV_EXAMPLE, 'package.json': committedPkg, 'src/index.js': INDEX_JS_V1 };
  const v3 = { ...v2, 'src/index.js': INDEX_JS };
  const mtimes: Record<string, number> = { 'README.md': t0, '.gitignore': t0, '.env.example': t1, 'package.json': t1, 'src/index.js': t2 };
  const repo = gitRepo({
    person: { name: b.id.fullName, email: b.id.email },
    remote: `git@github.com:${b.id.login}/webapp.git`,
    commits: [
      { time: t0, message: 'Initial commit', files: v1 },
      { time: t1, message: 'Add HTTP server', files: v2 },
      { time: t2, message: 'Add health check endpoint', files: v3 },
    ],
    mtimes,
  });
  for (const [p, content] of Object.entries(v3)) {
    if (p !== 'package.json' && !real) b.file(rel(p), content, { mtime: mtimes[p]! });
  }
  b.file(rel('.env'), env, { mode: '0600', mtime: t1 + 600 });
  for (const [p, content] of Object.entries(repo.files)) {
    const object = p.startsWith('objects/');
    b.file(rel(`.git/${p}`), content, {
      mode: object ? '0444' : '0644',
      mtime: p === 'description' || p === 'info/exclude' ? t0 : object ? t2 : t2 + 5,
    });
  }
  for (const empty of ['.git/refs/tags', '.git/objects/info', '.git/objects/pack', '.git/branches', '.git/hooks']) {
    b.dir(rel(empty), { mtime: t0 });
  }
}
