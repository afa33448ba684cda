/**
 * Export a session record as an OpenTelemetry trace over OTLP/HTTP, with the official SDK, so
 * teams see installs in the collector they already run. Shape of the trace:
 *
 *   safe-install <kind>                 session span (verdict, provenance, findings as events)
 *   └─ <pkg>@<ver> <event>              one span per lifecycle script
 *      └─ <argv[0]>                     one span per process, nested as the processes were
 *           events: file.<op>, network.<syscall>, dns.query   (at the time they happened)
 *
 * Spans carry the times the sandbox measured, not the time of export.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SafeInstallError } from '../errors/index.js';
import type { Provenance } from '../provenance/index.js';
import type { PackageSession, ProcessEvent, ScriptRun } from '../session/types.js';
import type { SessionRecord } from './types.js';

const A = 'safe_install';
const ms = (seconds: number): number => seconds * 1000;

/**
 * Where to send: `--otlp URL` wins, then OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL, per
 * the OpenTelemetry spec), then OTEL_EXPORTER_OTLP_ENDPOINT (a base: `/v1/traces` is appended).
 * `--otlp` takes either form. Null: no export.
 */
export function otlpTracesUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const withPath = (base: string): string => (/\/v1\/traces\/?$/.test(base) ? base : `${base.replace(/\/+$/, '')}/v1/traces`);
  let url: string | null = null;
  if (flag) url = withPath(flag);
  else if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  else if (env.OTEL_EXPORTER_OTLP_ENDPOINT) url = withPath(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new SafeInstallError('E_USAGE', `the OTLP endpoint "${url}" is not an http(s) URL`, 'e.g. --otlp http://localhost:4318 (an OTLP/HTTP collector)');
  }
  return url;
}

function provenanceAttributes(p: Partial<Provenance>): Attributes {
  const attrs: Attributes = {};
  if (p.initiator) attrs[`${A}.initiator`] = p.initiator;
  if (p.agents && p.agents.length > 0) attrs[`${A}.agents`] = p.agents.map((a) => a.id);
  if (p.interactive !== undefined) attrs[`${A}.interactive`] = p.interactive;
  if (p.user?.name) attrs['user.name'] = p.user.name;
  if (p.host) attrs['host.name'] = p.host;
  if (p.cwd) attrs[`${A}.cwd`] = p.cwd;
  if (p.command) attrs[`${A}.command`] = p.command.line;
  if (p.git?.remote) attrs['vcs.repository.url.full'] = p.git.remote;
  if (p.git?.head) attrs['vcs.ref.head.revision'] = p.git.head;
  if (p.ci) {
    attrs['cicd.provider'] = p.ci.provider;
    if (p.ci.runId) attrs['cicd.pipeline.run.id'] = p.ci.runId;
    if (p.ci.url) attrs['cicd.pipeline.run.url.full'] = p.ci.url;
  }
  if (p.shim) attrs[`${A}.shim`] = p.shim.tool;
  return attrs;
}

function addProcessSpans(tracer: Tracer, scriptSpan: Span, script: ScriptRun, session: PackageSession): void {
  const processes = session.processes.filter((p) => p.scriptId === script.id);
  const spans = new Map<string, Span>();
  const byId = new Map(processes.map((p) => [p.id, p]));
  // Parents first: a process span needs its parent's span to exist.
  const depth = (p: ProcessEvent): number => {
    let d = 0;
    for (let cur = p; cur.parentId && byId.has(cur.parentId) && d < 1000; cur = byId.get(cur.parentId)!) d++;
    return d;
  };
  for (const proc of [...processes].sort((a, b) => depth(a) - depth(b) || a.startedAt - b.startedAt)) {
    const parent = (proc.parentId && spans.get(proc.parentId)) || scriptSpan;
    const attrs: Attributes = {
      [`${A}.event.id`]: proc.id,
      'process.pid': proc.pid,
      'process.command_args': proc.argv,
      'process.working_directory': proc.cwd,
    };
    if (proc.exe) attrs['process.executable.path'] = proc.exe;
    if (proc.exitCode !== null) attrs['process.exit.code'] = proc.exitCode;
    if (proc.signal) attrs[`${A}.signal`] = proc.signal;
    if (proc.outlivedScript) attrs[`${A}.outlived_script`] = true;
    if (proc.killedBySandbox) attrs[`${A}.killed_by_sandbox`] = true;
    if (proc.detached) attrs[`${A}.detached`] = true;
    const span = tracer.startSpan(proc.argv[0] ?? proc.exe ?? proc.id, { startTime: ms(proc.startedAt), attributes: attrs, kind: SpanKind.INTERNAL }, trace.setSpan(context.active(), parent));
    spans.set(proc.id, span);
  }
  const target = (processId: string | null): Span => (processId && spans.get(processId)) || scriptSpan;
  for (const f of session.files) {
    if (f.scriptId !== script.id) continue;
    const attrs: Attributes = { [`${A}.event.id`]: f.id, 'file.path': f.path, [`${A}.syscall`]: f.syscall, [`${A}.result`]: f.result };
    if (f.target) attrs[`${A}.target`] = f.target;
    if (f.mode) attrs[`${A}.mode`] = f.mode;
    target(f.processId).addEvent(`file.${f.op}`, attrs, ms(f.time));
  }
  for (const c of session.connections) {
    if (c.scriptId !== script.id) continue;
    const attrs: Attributes = { [`${A}.event.id`]: c.id, 'server.address': c.address, 'network.type': c.family, [`${A}.syscall`]: c.syscall, [`${A}.result`]: c.result };
    if (c.port !== null) attrs['server.port'] = c.port;
    if (c.protocol) attrs['network.transport'] = c.protocol;
    if (c.hostname) attrs[`${A}.hostname`] = c.hostname;
    if (c.observed) attrs[`${A}.observed.protocol`] = c.observed.protocol;
    target(c.processId).addEvent(`network.${c.syscall}`, attrs, ms(c.time));
  }
  for (const d of session.dns) {
    if (d.scriptId !== script.id) continue;
    target(d.processId).addEvent('dns.query', { [`${A}.event.id`]: d.id, 'dns.question.name': d.name, [`${A}.dns.type`]: d.type, [`${A}.dns.answers`]: d.answers }, ms(d.time));
  }
  for (const proc of processes) spans.get(proc.id)!.end(ms(proc.endedAt ?? script.endedAt));
}

/** Build the spans of one record (no network): the exporter's input, and what tests inspect. */
export function recordSpans(record: SessionRecord, version: string): ReturnType<InMemorySpanExporter['getFinishedSpans']> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'safe-install', 'service.version': version }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
    // A busy install script reads thousands of files: keep them, the defaults would drop all past 128.
    spanLimits: { eventCountLimit: 100_000, attributeCountLimit: 256, attributeValueLengthLimit: 8192 },
  });
  const tracer = provider.getTracer('safe-install', version);
  const body = record.body;
  const chain = body.chain;
  const start = chain ? ms(chain.startedAt) : ms(record.time);
  const end = chain ? ms(chain.endedAt) : ms(record.time);
  const session = tracer.startSpan(`safe-install ${record.kind}`, {
    startTime: start,
    kind: SpanKind.INTERNAL,
    attributes: {
      [`${A}.session.id`]: record.id,
      [`${A}.record.seq`]: record.seq,
      [`${A}.record.hash`]: record.hash,
      [`${A}.kind`]: record.kind,
      [`${A}.verdict`]: body.verdict ?? 'none',
      [`${A}.command`]: body.command.join(' '),
      [`${A}.packages`]: chain?.packages.length ?? 0,
      ...(body.imageDigest ? { [`${A}.image.digest`]: body.imageDigest } : {}),
      ...provenanceAttributes(body.provenance as Partial<Provenance>),
    },
  });
  if (body.verdict === 'block') session.setStatus({ code: SpanStatusCode.ERROR, message: 'blocked' });
  for (const pkg of body.findings) {
    for (const f of pkg.findings) {
      session.addEvent('finding', { [`${A}.package`]: pkg.package, [`${A}.rule`]: f.rule, [`${A}.severity`]: f.severity, [`${A}.message`]: f.message, [`${A}.evidence`]: f.evidence }, end);
    }
  }
  for (const { info, session: pkgSession } of chain?.packages ?? []) {
    for (const script of pkgSession.scripts) {
      const span = tracer.startSpan(
        `${info.name}@${info.version} ${script.event}`,
        {
          startTime: ms(script.startedAt),
          attributes: {
            [`${A}.event.id`]: script.id,
            [`${A}.package.name`]: info.name,
            [`${A}.package.version`]: info.version,
            [`${A}.package.integrity`]: info.integrity,
            [`${A}.script.event`]: script.event,
            [`${A}.script.command`]: script.command,
            [`${A}.script.outcome`]: script.outcome,
            ...(script.exitCode !== null ? { 'process.exit.code': script.exitCode } : {}),
          },
        },
        trace.setSpan(context.active(), session),
      );
      if (script.outcome !== 'ok' && script.outcome !== 'skipped') span.setStatus({ code: SpanStatusCode.ERROR, message: script.reason ?? script.outcome });
      addProcessSpans(tracer, span, script, pkgSession);
      span.end(ms(script.endedAt));
    }
  }
  session.end(end);
  const spans = memory.getFinishedSpans();
  void provider.shutdown();
  return spans;
}

/** Send one record as a trace. Resolves with the number of spans sent; throws E_RECORD when the collector refused or was unreachable. */
export async function exportRecordOtlp(record: SessionRecord, opts: { url: string; version: string; timeoutMs?: number }): Promise<number> {
  const spans = recordSpans(record, opts.version);
  const exporter = new OTLPTraceExporter({ url: opts.url, timeoutMillis: opts.timeoutMs ?? 10_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      exporter.export(spans, (result) => {
        if (result.code === 0) resolve();
        else reject(result.error ?? new Error('export failed'));
      });
    });
  } catch (err) {
    throw new SafeInstallError('E_RECORD', `could not send the session to ${opts.url}: ${(err as Error).message}`, 'check that an OTLP/HTTP collector listens there (usually port 4318); the local record was written anyway', { cause: err });
  } finally {
    await exporter.shutdown().catch(() => undefined);
  }
  return spans.length;
}
