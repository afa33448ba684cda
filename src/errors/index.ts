/**
 * Typed errors. Each carries a stable code and a one-line hint that tells the user what to do.
 * The CLI maps every error to exit code 2 (could not decide) in one place: src/cli/exit-codes.ts.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_PACKAGE_NOT_FOUND'
  | 'E_REGISTRY_UNREACHABLE'
  | 'E_INTEGRITY'
  | 'E_BAD_TARBALL'
  | 'E_NOT_A_PACKAGE'
  | 'E_RESOLVE'
  | 'E_DOCKER_MISSING'
  | 'E_DOCKER_UNREACHABLE'
  | 'E_IMAGE_BUILD'
  | 'E_SANDBOX'
  | 'E_POLICY'
  | 'E_GIT'
  | 'E_LOCKFILE'
  | 'E_RECORD'
  | 'E_INTERNAL';

export class SafeInstallError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;

  constructor(code: ErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SafeInstallError';
    this.code = code;
    this.hint = hint;
  }
}

export function isSafeInstallError(err: unknown): err is SafeInstallError {
  return err instanceof SafeInstallError;
}

/** A short description of any thrown value, for wrapping unexpected failures. */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}
