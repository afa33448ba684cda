/**
 * The PATH shims: small POSIX sh scripts, so `npm --version` through a shim costs a few
 * milliseconds of sh and not a node start. Each one:
 *   1. finds the real program: the first on PATH outside any shim folder (this folder may be on
 *      PATH twice or under another spelling, and another shim folder may exist: a marker file
 *      in each shim folder catches all of them, so a shim never calls itself or another shim);
 *   2. decides whether the command installs or fetches packages; everything else execs the
 *      real program untouched;
 *   3. sends installs to `safe-install <front-end> <args>`, non-interactive, and fails closed:
 *      a missing or crashing safe-install refuses the install (exit 2), it never falls back
 *      to the real package manager. SAFE_INSTALL_BYPASS=1 is the one escape hatch, and it is
 *      logged (a plain bypass.log line written by sh, plus a hash-chained record when
 *      safe-install works).
 */

export const SHIM_MARKER = '# safe-install-shim v1';
/** The file that marks a folder as a shim folder (never searched for real programs). */
export const SHIM_DIR_MARKER = '.safe-install-shims';
export const SHIM_TOOLS = ['npm', 'npx', 'pnpm', 'pnpx', 'pip', 'pip3', 'uv', 'uvx'] as const;
export type ShimTool = (typeof SHIM_TOOLS)[number];

/** Single-quote for sh. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Sets si_cmd (the first positional) and si_arg1 (the next one), skipping options and the
 * values of the given value-taking options, as the package manager itself would.
 */
function positionals(valueFlags: string[]): string {
  return `si_cmd=; si_arg1=; si_skip=0
for si_a in "$@"; do
  if [ "$si_skip" = 1 ]; then si_skip=0; continue; fi
  case $si_a in
    ${valueFlags.join('|')}) si_skip=1 ;;
    -*) ;;
    *) if [ -z "$si_cmd" ]; then si_cmd=$si_a; else si_arg1=$si_a; break; fi ;;
  esac
done`;
}

const ONLY_INFO = `case "$*" in ''|-v|--version|-h|--help|-V) [ -n "$si_real" ] || si_noreal; exec "$si_real" "$@" ;; esac`;

/** Per tool: decide, and on an install set the front-end call with \`set -- <safe-install args>\`. */
const ROUTING: Record<ShimTool, string> = {
  // npm's aliases (npm 10/11 \`npm help <cmd>\`), plus commands that fetch and run packages
  // (exec/x, create, init <initializer>) and those that run install scripts (rebuild, dedupe).
  npm: `${positionals(['--prefix', '-C', '--registry', '--cache', '--userconfig', '--globalconfig', '--workspace', '-w', '--loglevel', '--location'])}
case $si_cmd in
  install|i|in|ins|inst|insta|instal|isnt|isnta|isntal|isntall|add|ci|clean-install|ic|install-clean|isntall-clean|install-test|it|install-ci-test|cit|update|up|upgrade|udpate|rebuild|rb|dedupe|ddp|exec|x|create) si_route=1 ;;
  init|innit) [ -n "$si_arg1" ] && si_route=1 ;;
esac
si_front=npm`,
  // npx <pkg> is npm exec: it runs a local bin when the project has one, otherwise it fetches.
  npx: `${ONLY_INFO}
# The first positional is the command; -p/--package/-c (only before it) name what to fetch.
si_cmd=; si_skip=0
for si_a in "$@"; do
  if [ "$si_skip" = 1 ]; then si_skip=0; continue; fi
  case $si_a in
    -p|--package|-c|--call) si_route=1; si_skip=1 ;;
    --package=*|--call=*) si_route=1 ;;
    --registry|--cache|--userconfig|-w|--workspace) si_skip=1 ;;
    -*) ;;
    *) si_cmd=$si_a; break ;;
  esac
done
if [ "$si_route" = 0 ]; then
  case $si_cmd in
    ''|*@*|*/*|*:*) si_route=1 ;;
    *) si_route=1; si_d=$PWD
       while :; do
         if [ -x "$si_d/node_modules/.bin/$si_cmd" ]; then si_route=0; break; fi
         [ "$si_d" = / ] && break; si_d=\${si_d%/*}; [ -n "$si_d" ] || si_d=/
       done ;;
  esac
fi
si_front='npm exec'`,
  pnpm: `${positionals(['-C', '--dir', '--filter', '-F', '--workspace-dir', '--config-dir', '--reporter', '--loglevel'])}
case $si_cmd in
  install|i|add|update|up|upgrade|ci|dlx|rebuild|rb|create|install-test|it|import) si_route=1 ;;
esac
si_front=pnpm`,
  pnpx: `${ONLY_INFO}
si_route=1; si_front='pnpm dlx'`,
  // pip download and pip wheel build sdists, and building runs the package's setup code.
  pip: `${positionals(['--python', '--log', '--proxy', '--cache-dir', '--timeout', '--retries', '--exists-action', '--trusted-host', '--cert', '--client-cert', '--src', '--log-file', '--local-log', '--keyring-provider', '--use-feature', '--use-deprecated'])}
case $si_cmd in install|download|wheel) si_route=1 ;; esac
si_front=pip`,
  pip3: `${positionals(['--python', '--log', '--proxy', '--cache-dir', '--timeout', '--retries', '--exists-action', '--trusted-host', '--cert', '--client-cert', '--src', '--log-file', '--local-log', '--keyring-provider', '--use-feature', '--use-deprecated'])}
case $si_cmd in install|download|wheel) si_route=1 ;; esac
si_front=pip`,
  uv: `${positionals(['--directory', '--project', '--cache-dir', '--python', '-p', '--color', '--config-file', '--index-url', '--extra-index-url', '--index'])}
case "$si_cmd $si_arg1" in
  'pip install'|'pip sync'|'tool install'|'tool run'|add\\ *|sync\\ *) si_route=1 ;;
esac
si_front=uv`,
  uvx: `${ONLY_INFO}
si_route=1; si_front='uv tool run'`,
};

/** Rewrites made only on the way to safe-install: a bypass runs the real program with the original arguments. */
const PRE_CALL: Partial<Record<ShimTool, string>> = {
  npx: `# npx's options go before --, the package and its arguments after: \`npm exec [opts] -- cmd args\`.
si_n=$#; si_dd=0; si_skip=0
while [ "$si_n" -gt 0 ]; do
  si_a=$1; shift; si_n=$((si_n - 1))
  if [ "$si_dd" = 0 ] && [ "$si_skip" = 0 ]; then
    case $si_a in
      -p|--package|-c|--call|--registry|--cache|--userconfig|-w|--workspace) si_skip=1 ;;
      -*) ;;
      *) set -- "$@" --; si_dd=1 ;;
    esac
  else si_skip=0
  fi
  set -- "$@" "$si_a"
done`,
};

export interface ShimConfig {
  tool: ShimTool;
  /** The folder the shims live in (skipped when looking for the real program). */
  dir: string;
  /** Absolute path of node, captured at install time (PATH may not have it, or have another). */
  node: string;
  /** Absolute path of the safe-install entry script. */
  bin: string;
}

export function shimScript(cfg: ShimConfig): string {
  return `#!/bin/sh
${SHIM_MARKER}: ${cfg.tool} (written by \`safe-install shims install\`; \`safe-install shims uninstall\` removes it)
si_tool=${cfg.tool}
si_dir=${shQuote(cfg.dir)}
si_node=${shQuote(cfg.node)}
si_bin=${shQuote(cfg.bin)}

# The real ${cfg.tool}: first on PATH outside any shim folder. A shim folder holds the file
# ${SHIM_DIR_MARKER}, so one stat per entry (builtins only, no process) skips this folder
# under any spelling and every other shim folder; si_path is PATH without them.
si_real=; si_path=; si_ifs=$IFS; IFS=:; set -f
for si_d in $PATH; do
  if [ -z "$si_d" ] || [ "$si_d" = "$si_dir" ] || [ -e "$si_d/${SHIM_DIR_MARKER}" ]; then continue; fi
  si_path=\${si_path:+$si_path:}$si_d
  [ -n "$si_real" ] && continue
  si_c=$si_d/$si_tool
  if [ -f "$si_c" ] && [ -x "$si_c" ] && ! [ "$si_c" -ef "$0" ]; then si_real=$si_c; fi
done
IFS=$si_ifs; set +f
si_noreal() {
  echo "safe-install shim: no real $si_tool on PATH (after $si_dir)" >&2
  exit 127
}

si_route=0; si_front=; si_args="$*"
${ROUTING[cfg.tool]}

if [ "$si_route" = 0 ]; then
  [ -n "$si_real" ] || si_noreal
  exec "$si_real" "$@"
fi

if [ "\${SAFE_INSTALL_BYPASS:-}" = 1 ]; then
  si_state=\${SAFE_INSTALL_STATE_DIR:-\${XDG_STATE_HOME:-$HOME/.local/state}/safe-install}
  if ! { mkdir -p "$si_state" && printf '%s\\tuser=%s\\tcwd=%s\\tppid=%s\\t%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "\${USER:-$(id -un 2>/dev/null)}" "$PWD" "$PPID" "$si_tool" "$*" >> "$si_state/bypass.log"; } 2>/dev/null; then
    echo "safe-install shim: SAFE_INSTALL_BYPASS=1 but the bypass cannot be logged ($si_state/bypass.log): refused" >&2
    exit 2
  fi
  # Also into the hash-chained record, when safe-install works (the line above does not depend on it).
  SAFE_INSTALL_SHIM=$si_tool SAFE_INSTALL_REAL_BIN=$si_real PATH=$si_path "$si_node" "$si_bin" log bypass -- "$si_tool" "$@" >/dev/null 2>&1 </dev/null
  [ -n "$si_real" ] || si_noreal
  echo "safe-install shim: SAFE_INSTALL_BYPASS=1: running $si_tool UNPROTECTED (logged in $si_state/bypass.log)" >&2
  exec "$si_real" "$@"
fi

if ! [ -x "$si_node" ] || ! [ -f "$si_bin" ]; then
  echo "safe-install shim: refused \\\`$si_tool $si_args\\\`: safe-install is missing ($si_bin); reinstall it and run \\\`safe-install shims install\\\`, or set SAFE_INSTALL_BYPASS=1 to run $si_tool unprotected (logged)" >&2
  exit 2
fi
${PRE_CALL[cfg.tool] ?? ''}
# Non-interactive: whoever typed this (often an agent) gets a verdict and an exit code, never a
# prompt. The shim folder is taken off PATH so safe-install's own package-manager calls reach the real one.
SAFE_INSTALL_NONINTERACTIVE=1 SAFE_INSTALL_SHIM=$si_tool SAFE_INSTALL_REAL_BIN=$si_real PATH=$si_path \\
  "$si_node" "$si_bin" $si_front "$@"
si_rc=$?
case $si_rc in 0|1|2) exit $si_rc ;; esac
echo "safe-install shim: safe-install failed (exit $si_rc), so \\\`$si_tool $si_args\\\` was refused; see the error above, or set SAFE_INSTALL_BYPASS=1 to run $si_tool unprotected (logged)" >&2
exit 2
`;
}
