/**
 * The credential files a developer's home collects: package registries, git hosts, cloud, SSH,
 * containers, Kubernetes, and the AI coding agents. Each secret is unique to its file, so a
 * leak names the file it came from.
 */
import type { KeyObject } from 'node:crypto';
import type { DecoyBuilder } from './builder.js';
import {
  anthropicApiKey,
  awsAccessKeyId,
  awsSecretAccessKey,
  dockerHubToken,
  githubToken,
  jwt,
  npmToken,
  openaiProjectKey,
  password,
  pypiToken,
} from './formats.js';
import { GITHUB_HOST_KEYS, ed25519KeyPair, hashedKnownHost, randomHostKey, rsaKeyPair } from './ssh.js';
import { x509SelfSigned } from './x509.js';

export interface CredentialContext {
  awsAccount: string;
  rsaKey?: KeyObject;
}

export function plantCredentials(b: DecoyBuilder, ctx: CredentialContext): void {
  npm(b);
  python(b);
  git(b);
  aws(b, ctx.awsAccount);
  ssh(b, ctx.rsaKey);
  docker(b);
  kube(b);
  agents(b);
}

function npm(b: DecoyBuilder): void {
  const { id } = b;
  const token = b.secret(npmToken(b.rand), '.npmrc', 'npm token');
  const corp = b.secret(npmToken(b.rand), '.npmrc', 'npm token (private registry)');
  b.file(
    '.npmrc',
    [
      `//registry.npmjs.org/:_authToken=${token}`,
      '@acme:registry=https://npm.acme.example/',
      `//npm.acme.example/:_authToken=${corp}`,
      `init-author-name=${id.fullName}`,
      `init-author-email=${id.email}`,
      'save-exact=true',
      '',
    ].join('\n'),
    { mode: '0600', mtime: b.ago(20, 90) },
  );
}

function python(b: DecoyBuilder): void {
  const token = b.secret(pypiToken(b.rand), '.pypirc', 'pypi token');
  b.file(
    '.pypirc',
    `[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = ${token}\n`,
    { mode: '0600', mtime: b.ago(60, 200) },
  );
}

function git(b: DecoyBuilder): void {
  const { id } = b;
  const stored = b.secret(githubToken(b.rand), '.git-credentials', 'github token');
  b.file('.git-credentials', `https://${id.login}:${stored}@github.com\n`, { mode: '0600', mtime: b.ago(10, 60) });
  const netrcToken = b.secret(githubToken(b.rand), '.netrc', 'github token');
  const netrcPassword = b.secret(password(b.rand, 20), '.netrc', 'password');
  b.file(
    '.netrc',
    `machine github.com\n  login ${id.login}\n  password ${netrcToken}\n\nmachine git.acme.example\n  login ${id.user}\n  password ${netrcPassword}\n`,
    { mode: '0600', mtime: b.ago(30, 120) },
  );
  const gh = b.secret(githubToken(b.rand, 'gho'), '.config/gh/hosts.yml', 'github cli oauth token');
  b.file(
    '.config/gh/hosts.yml',
    `github.com:\n    git_protocol: ssh\n    users:\n        ${id.login}:\n            oauth_token: ${gh}\n    oauth_token: ${gh}\n    user: ${id.login}\n`,
    { mode: '0600', mtime: b.ago(5, 30) },
  );
  b.file(
    '.config/gh/config.yml',
    '# The current version of the config schema\nversion: 1\n# What protocol to use when performing git operations. Supported values: ssh, https\ngit_protocol: ssh\neditor:\nprompt: enabled\npager:\naliases:\n    co: pr checkout\n',
    { mtime: b.ago(60, 200) },
  );
}

function aws(b: DecoyBuilder, account: string): void {
  const defaultId = b.secret(awsAccessKeyId(b.rand, account), '.aws/credentials', 'aws access key id');
  const defaultSecret = b.secret(awsSecretAccessKey(b.rand), '.aws/credentials', 'aws secret access key');
  const prodId = b.secret(awsAccessKeyId(b.rand, account), '.aws/credentials', 'aws access key id');
  const prodSecret = b.secret(awsSecretAccessKey(b.rand), '.aws/credentials', 'aws secret access key');
  const when = b.ago(14, 90);
  b.dir('.aws', { mtime: when });
  b.file(
    '.aws/credentials',
    `[default]\naws_access_key_id = ${defaultId}\naws_secret_access_key = ${defaultSecret}\n\n[prod]\naws_access_key_id = ${prodId}\naws_secret_access_key = ${prodSecret}\n`,
    { mode: '0600', mtime: when },
  );
  b.file('.aws/config', '[default]\nregion = us-east-1\noutput = json\n\n[profile prod]\nregion = eu-west-1\noutput = json\n', {
    mode: '0600',
    mtime: when,
  });
}

function ssh(b: DecoyBuilder, rsaKey?: KeyObject): void {
  const { id } = b;
  const comment = `${id.user}@${id.hostname}`;
  const ed = ed25519KeyPair(b.rand, comment);
  const rsa = rsaKeyPair(comment, rsaKey);
  const edWhen = b.ago(120, 400);
  const rsaWhen = b.ago(700, 1400);
  // A whole key file is what most stealers send; one inner line is what survives JSON escaping.
  for (const [file, key, kind] of [
    ['.ssh/id_ed25519', ed, 'ssh private key (ed25519)'],
    ['.ssh/id_rsa', rsa, 'ssh private key (rsa)'],
  ] as const) {
    b.secret(key.privateKey, file, kind);
    b.secret(key.secretLine, file, `${kind}, one line`);
  }
  b.file('.ssh/id_ed25519', ed.privateKey, { mode: '0600', mtime: edWhen });
  b.file('.ssh/id_ed25519.pub', ed.publicKey, { mtime: edWhen });
  b.file('.ssh/id_rsa', rsa.privateKey, { mode: '0600', mtime: rsaWhen });
  b.file('.ssh/id_rsa.pub', rsa.publicKey, { mtime: rsaWhen });
  const hosts: string[] = [];
  for (const key of GITHUB_HOST_KEYS) hosts.push(hashedKnownHost(b.rand, 'github.com', key));
  for (const host of ['bastion.acme.example', 'git.acme.example', '10.20.0.15', 'staging-db.acme.example']) {
    hosts.push(hashedKnownHost(b.rand, host, randomHostKey()));
  }
  b.file('.ssh/known_hosts', `${b.rand.sample(hosts, hosts.length).join('\n')}\n`, { mtime: b.ago(0.2, 4) });
  b.file(
    '.ssh/config',
    [
      'Host github.com',
      '    User git',
      '    IdentityFile ~/.ssh/id_ed25519',
      '    IdentitiesOnly yes',
      '',
      'Host bastion',
      '    HostName bastion.acme.example',
      `    User ${id.user}`,
      '    IdentityFile ~/.ssh/id_rsa',
      '    ServerAliveInterval 60',
      '',
      'Host *.acme.example !bastion.acme.example',
      '    ProxyJump bastion',
      `    User ${id.user}`,
      '',
    ].join('\n'),
    { mtime: b.ago(30, 150) },
  );
  b.dir('.ssh', { mode: '0700', mtime: b.ago(0.2, 4) });
}

function docker(b: DecoyBuilder): void {
  const { id } = b;
  const file = '.docker/config.json';
  // `auth` is base64 of user:secret; a stealer may send either spelling, so both are canaries.
  const hubToken = b.secret(dockerHubToken(b.rand), file, 'docker hub token (base64 inside auth)');
  const hub = b.secret(Buffer.from(`${id.login}:${hubToken}`).toString('base64'), file, 'docker registry auth');
  const corpPassword = b.secret(password(b.rand, 32), file, 'docker registry password (base64 inside auth)');
  const corp = b.secret(Buffer.from(`${id.user}:${corpPassword}`).toString('base64'), file, 'docker registry auth (private registry)');
  const config = { auths: { 'https://index.docker.io/v1/': { auth: hub }, 'registry.acme.example': { auth: corp } } };
  b.dir('.docker', { mode: '0700' });
  b.file(file, `${JSON.stringify(config, null, '\t')}\n`, { mode: '0600', mtime: b.ago(7, 60) });
}

function kube(b: DecoyBuilder): void {
  const issued = Math.floor(b.ago(20, 60));
  const token = b.secret(
    jwt(
      b.rand,
      { alg: 'RS256', kid: b.rand.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 43) },
      {
        aud: ['https://kubernetes.default.svc.cluster.local'],
        exp: issued + 365 * 86_400,
        iat: issued,
        iss: 'https://kubernetes.default.svc.cluster.local',
        'kubernetes.io': {
          namespace: 'staging',
          serviceaccount: { name: `${b.id.user}-deploy`, uid: b.rand.uuid() },
        },
        nbf: issued,
        sub: `system:serviceaccount:staging:${b.id.user}-deploy`,
      },
    ),
    '.kube/config',
    'kubernetes bearer token',
  );
  const ca = Buffer.from(x509SelfSigned('kubernetes', issued - 200 * 86_400, b.rand)).toString('base64');
  b.file(
    '.kube/config',
    [
      'apiVersion: v1',
      'clusters:',
      '- cluster:',
      `    certificate-authority-data: ${ca}`,
      '    server: https://k8s.acme.example:6443',
      '  name: acme-staging',
      'contexts:',
      '- context:',
      '    cluster: acme-staging',
      '    namespace: staging',
      `    user: ${b.id.user}-deploy`,
      '  name: staging',
      'current-context: staging',
      'kind: Config',
      'preferences: {}',
      'users:',
      `- name: ${b.id.user}-deploy`,
      '  user:',
      `    token: ${token}`,
      '',
    ].join('\n'),
    { mode: '0600', mtime: b.ago(10, 60) },
  );
}

function agents(b: DecoyBuilder): void {
  const { id } = b;
  const settingsKey = b.secret(anthropicApiKey(b.rand), '.claude/settings.json', 'anthropic api key');
  b.file(
    '.claude/settings.json',
    `${JSON.stringify(
      {
        $schema: 'https://json.schemastore.org/claude-code-settings.json',
        env: { ANTHROPIC_API_KEY: settingsKey, DISABLE_TELEMETRY: '1' },
        permissions: { allow: ['Bash(npm run test:*)', 'Bash(git diff:*)'], deny: [] },
        model: 'sonnet',
      },
      null,
      2,
    )}\n`,
    { mtime: b.ago(2, 20) },
  );
  const primary = b.secret(anthropicApiKey(b.rand), '.claude.json', 'anthropic api key');
  b.file(
    '.claude.json',
    `${JSON.stringify(
      {
        numStartups: b.rand.between(20, 300),
        installMethod: 'global',
        autoUpdates: true,
        userID: b.rand.hex(32),
        primaryApiKey: primary,
        hasCompletedOnboarding: true,
        projects: { [id.projectDir]: { allowedTools: [], hasTrustDialogAccepted: true, lastCost: 0.4 + b.rand.int(300) / 100 } },
      },
      null,
      2,
    )}\n`,
    { mode: '0600', mtime: b.ago(0.1, 3) },
  );
  const mcpToken = b.secret(githubToken(b.rand), '.cursor/mcp.json', 'github token (mcp server)');
  const openai = b.secret(openaiProjectKey(b.rand), '.cursor/mcp.json', 'openai api key (mcp server)');
  b.file(
    '.cursor/mcp.json',
    `${JSON.stringify(
      {
        mcpServers: {
          github: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-github'],
            env: { GITHUB_PERSONAL_ACCESS_TOKEN: mcpToken },
          },
          'docs-search': { command: 'npx', args: ['-y', '@acme/docs-mcp'], env: { OPENAI_API_KEY: openai } },
        },
      },
      null,
      2,
    )}\n`,
    { mtime: b.ago(5, 40) },
  );
}
