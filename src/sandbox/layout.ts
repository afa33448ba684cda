/**
 * Where things live inside the sandbox. The home and project look like a developer's laptop,
 * not like a container: scripts that probe for sandboxes should see an ordinary machine.
 */
export const SANDBOX_USER = 'alex';
export const SANDBOX_UID = 1000;
export const SANDBOX_HOME = `/home/${SANDBOX_USER}`;
export const SANDBOX_PROJECT_DIR = `${SANDBOX_HOME}/code/webapp`;
export const SANDBOX_NODE_PREFIX = '/usr/local';
/** Inputs (plan + tarballs) are mounted read-only here. */
export const SANDBOX_INPUT_DIR = '/opt/.si-input';
export const SANDBOX_TMP_DIRS = ['/tmp', '/var/tmp', `${SANDBOX_HOME}/.cache`, `${SANDBOX_HOME}/.npm`];

export function packageDirOf(location: string): string {
  return `${SANDBOX_PROJECT_DIR}/${location}`;
}
