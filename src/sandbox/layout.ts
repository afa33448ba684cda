/**
 * Where things live inside the sandbox. The home and project look like a developer's laptop,
 * not like a container: scripts that probe for sandboxes should see an ordinary machine.
 */
export const SANDBOX_USER = 'alex';
export const SANDBOX_UID = 1000;
export const SANDBOX_HOSTNAME = 'alex-thinkpad';
/** The resolver in the sandbox's resolv.conf, answered by the sinkhole (systemd-resolved's address, as on a desktop). */
export const SANDBOX_RESOLVER = '127.0.0.53';
export const SANDBOX_HOME = `/home/${SANDBOX_USER}`;
export const SANDBOX_PROJECT_DIR = `${SANDBOX_HOME}/code/webapp`;
export const SANDBOX_NODE_PREFIX = '/usr/local';
/** The verified tarballs are mounted read-only here, under random names in a folder no one can list. */
export const SANDBOX_INPUT_DIR = '/var/cache/private';
export const SANDBOX_TMP_DIRS = ['/tmp', '/var/tmp', `${SANDBOX_HOME}/.cache`, `${SANDBOX_HOME}/.npm`];

export function packageDirOf(location: string): string {
  return `${SANDBOX_PROJECT_DIR}/${location}`;
}
