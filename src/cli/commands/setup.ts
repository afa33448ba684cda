import { connectDocker } from '../../sandbox/docker.js';
import { ensureSandboxImage } from '../../sandbox/image/index.js';
import { parseFlags } from '../args.js';
import { EXIT_ALLOWED } from '../exit-codes.js';

export async function setupCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    'base-image': { type: 'string' },
    rebuild: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  const docker = await connectDocker();
  const image = await ensureSandboxImage(docker, {
    ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
    rebuild: values.rebuild === true,
    onProgress: (line) => {
      if (!values.quiet) process.stderr.write(`${line}\n`);
    },
  });
  process.stdout.write(`sandbox image ready: ${image.tag} (from ${image.base})\n`);
  return EXIT_ALLOWED;
}
