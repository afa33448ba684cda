/** `safe-install approve`: npm's and pnpm's script allowlists, from the sandbox's allow verdicts. */
import { VerdictCache } from '../../cache/index.js';
import { approvals, projectKind, scriptedPackages, scriptedPnpmPackages, writeApprovals, writePnpmApprovals } from '../../install/approve.js';
import { loadPolicy } from '../../policy/index.js';
import { connectDocker } from '../../sandbox/docker.js';
import { ensureSandboxImage } from '../../sandbox/image/index.js';
import { parseFlags } from '../args.js';
import { EXIT_ALLOWED, EXIT_BLOCKED } from '../exit-codes.js';

export async function approveCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { policy: { type: 'string' }, json: { type: 'boolean' }, 'base-image': { type: 'string' } });
  const projectDir = process.cwd();
  const kind = projectKind(projectDir);
  const packages = kind === 'pnpm' ? scriptedPnpmPackages(projectDir) : scriptedPackages(projectDir);
  const policy = await loadPolicy({ projectDir, ...(values.policy !== undefined ? { policyFile: values.policy } : {}) });
  const image = packages.length > 0 ? await ensureSandboxImage(await connectDocker(), values['base-image'] ? { baseImage: values['base-image'] } : {}) : null;
  const result = image ? approvals(packages, new VerdictCache(), { policyDigest: policy.digest, image: image.tag }) : { approved: [], unproven: [] };
  const { changed } = kind === 'pnpm' ? writePnpmApprovals(projectDir, result.approved) : writeApprovals(projectDir, result.approved);
  if (values.json) process.stdout.write(`${JSON.stringify({ ...result, changed }, null, 2)}\n`);
  else {
    for (const id of result.approved) process.stdout.write(`approved ${id} (allowed by the sandbox)\n`);
    for (const id of result.unproven) process.stdout.write(`not approved ${id}: no allow verdict for this exact tarball; run \`safe-install install\` to sandbox it\n`);
    const where = kind === 'pnpm' ? 'pnpm-workspace.yaml: allowBuilds' : 'package.json: allowScripts (npm) and pnpm.onlyBuiltDependencies';
    process.stdout.write(changed ? `${where} updated\n` : `${where.split(':')[0]}: nothing to change\n`);
  }
  // Scripts left unapproved mean npm/pnpm will skip them: say so in the exit code too.
  return result.unproven.length > 0 ? EXIT_BLOCKED : EXIT_ALLOWED;
}
