import type { ConnectionEvent, FileEvent, ProcessEvent } from '../session/types.js';
import type { Finding, Rule, Severity } from './types.js';
import { indexChain, type ChainIndex } from './chain-index.js';
import { destinationOf, isInet, isLoopback } from './egress.js';
import { imageAt, imagesOf, programNames, type RanImage } from './processes.js';
import { SOCKET_RELAYS, hasProgram, isShell, isShellOrInterpreter, stdinInterpreter } from './programs.js';
import { formatArgv } from './text.js';

/**
 * Someone else gets a shell: a shell or interpreter whose stdio is a network socket.
 *
 * - critical: the tracer saw an inet socket dup'd onto fd 0-2 of a process that is (or then
 *   starts) a shell or interpreter; or the command line says so outright: bash's `/dev/tcp/`,
 *   gawk's `/inet/tcp/`, `nc -e`, `socat … exec:`; or an interactive or stdin-driven shell in a
 *   pipeline with nc/socat/telnet (the mkfifo variant, where stdio is pipes, not the socket).
 * - high: any other program with a socket on its stdio; a stdin-driven shell started by a
 *   process that had opened a TCP connection (node's `spawn('sh')` wired to a socket through
 *   pipes): the shape, without the socket itself on the shell's stdio.
 */
export const reverseShellRule: Rule = {
  id: 'reverse-shell',
  evaluate({ session, chain }) {
    const index = indexChain(chain);
    const findings: Finding[] = [];
    for (const process of session.processes) {
      const found = socketStdio(process, index) ?? commandLine(process, session.files) ?? relayPipeline(process, index) ?? socketParent(process, index, session.connections);
      if (found) findings.push({ rule: 'reverse-shell', ...found });
    }
    return findings;
  },
};

type Found = { severity: Severity; message: string; evidence: string[] };

function socketStdio(process: ProcessEvent, index: ChainIndex): Found | undefined {
  const sockets = process.stdioSockets ?? [];
  const first = sockets[0];
  if (!first) return undefined;
  const fds = [...new Set(sockets.map((s) => s.fd))].sort().join(', ');
  const later = index.descendantsOf(process).filter((child) => child.startedAt >= first.time);
  const shell = [process, ...later].find((candidate) => imagesOf(candidate).some(isShellOrInterpreter));
  const what = `stdio (fd ${fds}) connected to ${first.socket}`;
  if (shell) {
    return {
      severity: 'critical',
      message: `${describe(shell)} runs with ${what}`,
      evidence: unique([process.id, shell.id]),
    };
  }
  return { severity: 'high', message: `${describe(process)} runs with ${what}`, evidence: [process.id] };
}

const NETWORK_PATHS = /\/dev\/(tcp|udp)\/|\/inet6?\/(tcp|udp)\//;

function commandLine(process: ProcessEvent, files: readonly FileEvent[]): Found | undefined {
  for (const image of imagesOf(process)) {
    const relayExec = isRelayWithExec(image);
    if (relayExec || image.argv.some((arg) => NETWORK_PATHS.test(arg))) {
      const opened = files.filter((event) => event.processId === process.id && NETWORK_PATHS.test(event.path));
      return {
        severity: 'critical',
        message: `${relayExec ? 'hands a shell to a network peer' : 'wires a shell to a network socket'}: ${formatArgv(image.argv, 100)}`,
        evidence: [process.id, ...opened.map((event) => event.id)],
      };
    }
  }
  // dash does not know /dev/tcp and tries to open it as a file: the attempt shows the intent.
  const opened = files.filter((event) => event.processId === process.id && /^\/dev\/(tcp|udp)\//.test(event.path));
  if (opened.length === 0) return undefined;
  return {
    severity: 'critical',
    message: `tries to open ${opened[0]?.path} (a shell's network redirection)`,
    evidence: [process.id, ...opened.map((event) => event.id)],
  };
}

/** `nc -e /bin/sh host port`, `ncat --sh-exec`, `socat tcp:host:port exec:/bin/sh`. */
function isRelayWithExec(image: RanImage): boolean {
  const names = programNames(image);
  if (names.some((name) => /^(nc|ncat|netcat|nc\.traditional|nc\.openbsd)$/.test(name))) {
    return image.argv.slice(1).some((arg) => /^-[a-zA-Z]*[ec][a-zA-Z]*$/.test(arg) || /^--(sh-)?exec/.test(arg) || arg === '--lua-exec');
  }
  if (names.includes('socat')) return image.argv.slice(1).some((arg) => /^(exec|system):/i.test(arg));
  return false;
}

/** `mkfifo f; cat f | sh -i 2>&1 | nc host port > f`: the shell talks to the relay through pipes. */
function relayPipeline(process: ProcessEvent, index: ChainIndex): Found | undefined {
  const shell = stdinInterpreter(process) ?? process.images.map((image, i): RanImage => ({ index: i, ...image })).find(isInteractiveShell);
  if (!shell) return undefined;
  const relay = index.pipelinePeersOf(process).find((peer) => imagesOf(peer).some((image) => hasProgram(image, SOCKET_RELAYS)));
  if (!relay) return undefined;
  return {
    severity: 'critical',
    message: `pipes ${formatArgv(shell.argv, 40)} to and from ${formatArgv(relay.argv, 60)}`,
    evidence: [process.id, relay.id, ...index.egressBy(relay.id).map((event) => event.id)],
  };
}

function isInteractiveShell(image: RanImage): boolean {
  return isShellOrInterpreter(image) && image.argv.slice(1).some((arg) => /^-[a-zA-Z]*i[a-zA-Z]*$/.test(arg));
}

/** node's `spawn('/bin/sh')` with a connected socket piped to it: no socket on the shell's own stdio. */
function socketParent(process: ProcessEvent, index: ChainIndex, connections: readonly ConnectionEvent[]): Found | undefined {
  const shell = stdinInterpreter(process);
  const parent = index.process(process.parentId);
  // A shell starting a shell is plumbing; a program holding a connection and feeding a shell is the shape.
  if (!shell || !parent || isShell(imageAt(parent, process.startedAt))) return undefined;
  const connected = connections.filter(
    (event) =>
      event.processId === parent.id &&
      event.syscall === 'connect' &&
      (event.result === 'ok' || event.result === 'EINPROGRESS') &&
      isInet(event) &&
      !isLoopback(event.address) &&
      event.time <= process.startedAt,
  );
  const first = connected[0];
  if (!first) return undefined;
  return {
    severity: 'high',
    message: `${describe(parent)} connects to ${destinationOf(first)}, then starts ${formatArgv(shell.argv, 40)} reading commands from stdin (likely a reverse shell)`,
    evidence: [parent.id, process.id, ...connected.map((event) => event.id)],
  };
}

function describe(process: ProcessEvent): string {
  return formatArgv(process.argv, 60);
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
