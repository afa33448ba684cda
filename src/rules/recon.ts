import type { FileEvent, ProcessEvent } from '../session/types.js';
import type { Finding, Rule, RuleContext, Severity } from './types.js';
import { indexChain, type ChainIndex } from './chain-index.js';
import { toolOf } from './native-build.js';
import { imageAt, imagesOf, programNames, type RanImage } from './processes.js';
import { isNode } from './programs.js';
import { formatArgv, listSome } from './text.js';

/**
 * Fingerprinting the machine and probing for a sandbox. One finding per kind:
 *
 * | kind | looks at | severity |
 * |---|---|---|
 * | sandbox marker | /.dockerenv, /run/.containerenv | high |
 * | container probe | /proc/1/*, cgroup and mount tables | medium |
 * | hardware / VM probe | DMI ids, /sys/hypervisor, /proc/scsi, systemd-detect-virt, dmidecode | medium |
 * | debugger check | ptrace(PTRACE_TRACEME) | medium |
 * | cloud metadata | connections to 169.254.169.254 / fd00:ec2::254 | medium |
 * | machine identity | /etc/machine-id, os-release | low |
 * | process listing | /proc/<pid>/ of other processes | low |
 * | system-info commands | uname -a, whoami, id, hostname, ifconfig, ip addr, ps… | low; medium from 3 different ones |
 *
 * The markers are high on their own: they exist only to say "container", no install script
 * needs them, and they are the one probe the sandbox cannot hide (Docker creates /.dockerenv in
 * every container; docs/sandbox-detection.md). A payload that looks for them and then stays
 * quiet is blocked for looking.
 *
 * Not recon:
 * - A runtime reading its own limits at start: node (libuv) reads /proc/self/cgroup and the
 *   cgroup memory/cpu limit files every time it starts; Go binaries (esbuild) read
 *   /proc/self/cgroup and /proc/self/mountinfo for GOMAXPROCS. The first read of each such file
 *   by a process image is exempt for node, and for any program while it has done nothing
 *   else yet since its exec. A second read, or one after other activity, is low: Rust's
 *   available_parallelism() reads them on every thread-pool start (@swc/core in node), and in a
 *   private cgroup namespace they say nothing about a container that /proc/1 would not.
 * - Commands run by a build (node-gyp, make, configure…: `uname` to pick a toolchain), and
 *   `uname -m/-s/-p/-r` anywhere (picking the prebuilt binary for this platform).
 * - Environment variables (CI tokens) are read from memory, invisible to the tracer.
 */
export const reconRule: Rule = {
  id: 'recon',
  evaluate(ctx) {
    const index = indexChain(ctx.chain);
    const kinds = new Map<Kind, { shown: Set<string>; evidence: Set<string> }>();
    const note = (kind: Kind, shown: string, evidence: string[]): void => {
      const entry = kinds.get(kind) ?? { shown: new Set<string>(), evidence: new Set<string>() };
      entry.shown.add(shown);
      evidence.forEach((id) => entry.evidence.add(id));
      kinds.set(kind, entry);
    };

    for (const event of probesOf(ctx)) {
      const kind = RUNTIME_LIMITS.test(event.path) ? 'limits' : fileKind(event.path);
      if (kind) note(kind, event.path, [event.id]);
    }
    for (const process of ctx.session.processes) {
      if ((process.privilegeCalls ?? []).some((call) => call.syscall === 'ptrace' && call.args.startsWith('PTRACE_TRACEME'))) {
        note('debugger', 'ptrace(PTRACE_TRACEME)', [process.id]);
      }
      if (underBuild(process, index)) continue;
      for (const image of imagesOf(process)) {
        const kind = commandKind(image);
        if (kind) note(kind, formatArgv(image.argv, 40), [process.id]);
      }
    }
    for (const event of ctx.session.connections) {
      if (METADATA.has(event.address)) note('metadata', `${event.address}:${event.port ?? ''}`, [event.id]);
    }

    return [...kinds].map(([kind, { shown, evidence }]): Finding => {
      const { label, severity } = KINDS[kind];
      const escalated = kind === 'commands' && shown.size >= 3 ? 'medium' : severity;
      return { rule: 'recon', severity: escalated, message: `${label}: ${listSome([...shown])}`, evidence: [...evidence] };
    });
  },
};

type Kind = 'marker' | 'limits' | 'container' | 'hardware' | 'debugger' | 'metadata' | 'identity' | 'processes' | 'commands';

const KINDS: Record<Kind, { label: string; severity: Severity }> = {
  marker: { label: 'looks for the files that mark a container (sandbox evasion)', severity: 'high' },
  container: { label: 'probes for a container or sandbox', severity: 'medium' },
  limits: { label: 'reads its own cgroup and mount view again (runtimes size thread pools from them)', severity: 'low' },
  hardware: { label: 'fingerprints the hardware or hypervisor', severity: 'medium' },
  debugger: { label: 'checks whether it is being traced', severity: 'medium' },
  metadata: { label: 'queries the cloud instance metadata service', severity: 'medium' },
  identity: { label: 'reads the machine identity', severity: 'low' },
  processes: { label: 'lists other processes', severity: 'low' },
  commands: { label: 'runs system-information commands', severity: 'low' },
};

const FILE_KINDS: [RegExp, Kind][] = [
  [/^\/(\.dockerenv|run\/\.containerenv)$/, 'marker'],
  [/^\/proc\/1\/(cgroup|sched|mountinfo|mounts|comm|cmdline|status|root|exe)$/, 'container'],
  [/^\/proc\/(self\/)?(cgroup|mountinfo|mounts)$/, 'container'],
  [/^\/sys\/fs\/cgroup(\/.*)?$/, 'container'],
  [/^\/(sys\/class\/dmi\/id|sys\/devices\/virtual\/dmi\/id|sys\/hypervisor)(\/.*)?$/, 'hardware'],
  [/^\/proc\/(scsi\/scsi|xen|vz|bc|sysinfo)$/, 'hardware'],
  [/^\/(etc\/machine-id|var\/lib\/dbus\/machine-id|etc\/os-release|usr\/lib\/os-release|etc\/lsb-release|etc\/issue)$/, 'identity'],
  [/^\/proc\/\d+\/(cmdline|comm|stat|status|exe|cwd)$/, 'processes'],
];

function fileKind(path: string): Kind | undefined {
  return FILE_KINDS.find(([pattern]) => pattern.test(path))?.[1];
}

/** Files a runtime reads about its own limits when it starts. */
const RUNTIME_LIMITS = /^\/proc\/self\/(cgroup|mountinfo)$|^\/sys\/fs\/cgroup\/(.+\/)?(memory|cpu)\.[a-z_.]+$|^\/proc\/meminfo$/;

/** Reads and probes, minus each runtime's own start-up look at its limits. */
function probesOf({ session }: RuleContext): FileEvent[] {
  const processes = new Map(session.processes.map((process) => [process.id, process]));
  const readBefore = new Set<string>();
  const busy = new Set<string>();
  const out: FileEvent[] = [];
  for (const event of session.files) {
    if (event.op === 'exec') continue;
    const process = processes.get(event.processId);
    const image = process ? imageAt(process, event.time) : undefined;
    const key = `${event.processId}#${image?.index ?? 0}`;
    const looking = event.op === 'read' || event.op === 'probe';
    if (looking && RUNTIME_LIMITS.test(event.path)) {
      const first = !readBefore.has(`${key}:${event.path}`);
      readBefore.add(`${key}:${event.path}`);
      if (first && (!busy.has(key) || (image !== undefined && isNode(image)))) continue;
    } else if (!looking || fileKind(event.path)) {
      // Reading its CA bundle or page size is still start-up; writing or probing is not.
      busy.add(key);
    }
    if (looking) out.push(event);
  }
  return out;
}

/** Commands that describe the machine, its users or its network. */
function commandKind(image: RanImage): Kind | undefined {
  const names = programNames(image);
  const args = image.argv.slice(1);
  if (names.some((n) => /^(systemd-detect-virt|virt-what|dmidecode|lshw|imvirt)$/.test(n))) return 'hardware';
  if (names.includes('uname')) return args.length > 0 && args.every((arg) => /^-[msrpi]+$/.test(arg) || /^--(machine|kernel-name|kernel-release|processor)$/.test(arg)) ? undefined : 'commands';
  if (names.some((n) => /^(whoami|id|hostname|hostnamectl|groups|users|who|w|last|ifconfig|ss|netstat|arp|route|lscpu|lsblk|lspci|lsusb|lsb_release|ps|printenv)$/.test(n))) {
    return 'commands';
  }
  if (names.includes('ip')) return args.some((arg) => /^(a|addr|address|r|route|n|neigh|l|link)$/.test(arg)) ? 'commands' : undefined;
  if (names.includes('env')) return args.every((arg) => arg.startsWith('-')) ? 'commands' : undefined;
  return undefined;
}

const BUILD_DRIVER = /^(configure|config\.guess|config\.status|libtool|autoreconf|autoconf|meson|gyp|gyp_main\.py|setup\.py|cmake-js)$/;

/** Run by a build: node-gyp, make or a configure script somewhere above it. */
function underBuild(process: ProcessEvent, index: ChainIndex): boolean {
  for (let p = index.process(process.parentId); p; p = index.process(p.parentId)) {
    for (const image of imagesOf(p)) {
      if (toolOf(image) !== undefined) return true;
      if (image.argv.slice(0, 3).some((arg) => BUILD_DRIVER.test(arg.split('/').pop() ?? ''))) return true;
    }
  }
  return false;
}

const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
