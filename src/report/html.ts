/**
 * `--html FILE`: one self-contained page (inline CSS and a few lines of inline JS, no network)
 * with the verdict, the behaviour diff first, every finding linked to the events that prove it,
 * a collapsible process tree per script and a timeline of file and network events per package.
 *
 * Everything from the chain is attacker-controlled (argv, file names, script text, hostnames,
 * messages quoting them): it enters the page only through `escapeHtml`, never as markup, never
 * inside the script. A Content-Security-Policy that allows only the page's own script (by hash)
 * and no network backs that up: even a missed escape could not run code or load anything.
 */
import crypto from 'node:crypto';
import type { BehaviourDiff } from '../diff/types.js';
import { hasNewBehaviour } from '../diff/behaviour.js';
import type { ConnectionEvent, DnsEvent, FileEvent, ProcessEvent } from '../session/types.js';
import { bySeverity, verdictRank } from '../rules/verdict.js';
import { destinationOf } from '../rules/egress.js';
import { relativeInside, sandboxPathsFor } from '../rules/paths.js';
import { escapeHtml as h } from './escape.js';
import type { JsonReport, JsonReportPackage } from './json.js';
import { RULE_DESCRIPTIONS } from './rule-docs.js';

/** Timeline rows per package beyond the cited ones: a build reading 40 000 headers stays a page. */
const TIMELINE_MAX = 1500;

export interface HtmlOptions {
  diffs?: BehaviourDiff[];
  /** Shown under the title, e.g. "lockfile changes since origin/main (3f2a…)". */
  subtitle?: string;
  /** package name@version → where the lockfile pins it, e.g. `package-lock.json:42`. */
  locations?: Map<string, string>;
}

const SCRIPT = `
function openTo(id){var el=document.getElementById(id);if(!el)return;
for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS')p.open=true;}
document.querySelectorAll('.target').forEach(function(t){t.classList.remove('target');});
el.classList.add('target');el.scrollIntoView({block:'center'});}
document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a.ev');if(!a)return;
e.preventDefault();var id=a.getAttribute('href').slice(1);history.replaceState(null,'','#'+id);openTo(id);});
document.querySelectorAll('button[data-toggle]').forEach(function(b){b.addEventListener('click',function(){
var open=b.getAttribute('data-toggle')==='open';document.querySelectorAll(b.getAttribute('data-scope')+' details').forEach(function(d){d.open=open;});});});
if(location.hash.length>1)openTo(decodeURIComponent(location.hash.slice(1)));
`;

const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--dim:#6a737d;--line:#d8dee4;--block:#b3261e;--review:#a15c00;--allow:#1a7f37;--crit:#8b0000;--high:#b3261e;--med:#a15c00;--low:#3b6ea5;--info:#6a737d}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:16px 24px}
code,.mono,td.detail,summary.proc{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:700;letter-spacing:.04em}
.v-block{background:var(--block)}.v-review{background:var(--review)}.v-allow{background:var(--allow)}
.sev{display:inline-block;min-width:58px;font-weight:600}.s-critical{color:var(--crit)}.s-high{color:var(--high)}.s-medium{color:var(--med)}.s-low{color:var(--low)}.s-info{color:var(--info)}
.dim{color:var(--dim)}.pkg{border:1px solid var(--line);border-radius:6px;padding:8px 14px;margin:14px 0}
.diff{border-left:4px solid var(--block);background:#fff5f5;padding:8px 14px;margin:10px 0}
ul.findings{list-style:none;padding-left:0}ul.findings li{margin:3px 0}
a.ev{font-family:ui-monospace,monospace;font-size:12px;text-decoration:none;background:#eef2f6;border-radius:3px;padding:0 4px;margin-right:2px}
details{margin-left:18px}details>summary{cursor:pointer;margin-left:-18px;white-space:pre-wrap;word-break:break-all}
ul.evs{margin:2px 0 4px 0;padding-left:18px}ul.evs li{white-space:pre-wrap;word-break:break-all}
table.timeline{border-collapse:collapse;width:100%;font-size:12.5px}table.timeline td,table.timeline th{border-bottom:1px solid var(--line);padding:2px 6px;text-align:left;vertical-align:top}
td.detail{word-break:break-all;white-space:pre-wrap}
.cited{background:#fff3cd}.target{outline:3px solid #f0b400;background:#ffe58f !important}
button{font:inherit;font-size:12px;margin-right:6px}
`;

export function renderHtml(report: JsonReport, opts: HtmlOptions = {}): string {
  const scriptHash = crypto.createHash('sha256').update(SCRIPT).digest('base64');
  const packages = report.packages
    .map((pkg, index) => ({ pkg, index }))
    .filter(({ pkg }) => pkg.findings.length > 0 || Object.keys(pkg.scripts).length > 0 || pkg.session.scripts.length > 0)
    .sort((a, b) => verdictRank(b.pkg.verdict) - verdictRank(a.pkg.verdict) || a.index - b.index);
  const quiet = report.packages.length - packages.length;
  const count = (v: string) => report.packages.filter((p) => p.verdict === v).length;
  const news = (opts.diffs ?? []).filter(hasNewBehaviour);

  const body: string[] = [];
  body.push(`<h1>safe-install report <span class="verdict v-${report.verdict}" id="verdict">${h(report.verdict.toUpperCase())}</span></h1>`);
  if (opts.subtitle) body.push(`<p class="dim">${h(opts.subtitle)}</p>`);
  body.push(
    `<p>${count('block')} blocked, ${count('review')} to review, ${count('allow')} allowed${quiet > 0 ? ` (${quiet} without install-time code)` : ''}. Session <code>${h(report.sessionId)}</code>, tool ${h(report.tool.name)} ${h(report.tool.version)}.</p>`,
  );
  if (news.length > 0) {
    body.push('<h2>New behaviour since the previous version</h2>');
    for (const diff of news) {
      const idx = report.packages.findIndex((p) => p.name === diff.name && p.version === diff.to.version);
      const links = (ids: string[]) => (idx < 0 ? '' : ids.map((id) => evLink(idx, id)).join(''));
      const items = [
        ...diff.scriptsAdded.map((s) => `<li>new <code>${h(s.event)}</code> script: <code>${h(s.command)}</code></li>`),
        ...diff.secretReads.map((t) => `<li>reads <code>${h(t.what)}</code> ${links(t.evidence)}</li>`),
        ...diff.hosts.map((t) => `<li>contacts <code>${h(t.what)}</code> ${links(t.evidence)}</li>`),
        ...diff.processes.map((t) => `<li>runs <code>${h(t.what)}</code> ${links(t.evidence)}</li>`),
      ];
      body.push(`<div class="diff"><strong>${h(diff.summary)}</strong><ul>${items.join('')}</ul></div>`);
    }
  }
  if (report.errors.length > 0) {
    body.push(`<h2>Sandbox errors</h2><ul>${report.errors.map((e) => `<li>${h(e.message)}</li>`).join('')}</ul>`);
  }
  body.push('<h2>Packages</h2>');
  for (const { pkg, index } of packages) body.push(renderPackage(pkg, index, report, opts));

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>safe-install: ${h(report.verdict.toUpperCase())}</title>
<style>${CSS}</style></head>
<body>
${body.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

function anchor(pkgIndex: number, eventId: string): string {
  return `ev-${pkgIndex}-${eventId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function evLink(pkgIndex: number, eventId: string): string {
  return `<a class="ev" href="#${anchor(pkgIndex, eventId)}">${h(eventId)}</a>`;
}

function renderPackage(pkg: JsonReportPackage, index: number, report: JsonReport, opts: HtmlOptions): string {
  const label = `${pkg.name}@${pkg.version}`;
  const where = opts.locations?.get(label);
  const cited = new Set(pkg.findings.flatMap((f) => f.evidence));
  const out: string[] = [];
  out.push(`<section class="pkg" id="pkg-${index}">`);
  out.push(`<h3><span class="verdict v-${pkg.verdict}">${h(pkg.verdict.toUpperCase())}</span> ${h(label)} ${where ? `<span class="dim">${h(where)}</span>` : ''}</h3>`);
  out.push(`<div class="dim mono">${h(pkg.location)} · ${h(pkg.integrity)}</div>`);
  if (pkg.findings.length > 0) {
    out.push('<ul class="findings">');
    for (const f of bySeverity(pkg.findings)) {
      out.push(
        `<li class="finding"><span class="sev s-${f.severity}">${h(f.severity)}</span> <code title="${h(RULE_DESCRIPTIONS[f.rule] ?? '')}">${h(f.rule)}</code> ${h(f.message)} ${f.evidence.map((id) => evLink(index, id)).join('')}</li>`,
      );
    }
    out.push('</ul>');
  }
  for (const s of pkg.suppressed ?? []) {
    out.push(`<div class="dim">allowed by ${h(s.by)}: ${h(s.finding.rule)} ${h(s.finding.message)}${s.reason ? ` (${h(s.reason)})` : ''}</div>`);
  }
  // Process tree per script.
  const scope = `pkg-${index}`;
  if (pkg.session.scripts.length > 0) {
    out.push(`<div><button type="button" data-toggle="open" data-scope="#${scope}">expand all</button><button type="button" data-toggle="close" data-scope="#${scope}">collapse all</button></div>`);
  }
  // In the order they ran; a workspace's script (the project's, --sandbox-root) names its folder.
  const ownDir = sandboxPathsFor(report.sandbox.projectDir, pkg.location).packageDir;
  for (const script of pkg.session.scripts) {
    const event = [relativeInside(script.cwd, ownDir), script.event].filter(Boolean).join(' ');
    const status = script.outcome === 'ok' || script.outcome === 'failed' ? `exit ${script.exitCode ?? script.signal ?? '?'}` : script.outcome;
    out.push(`<details open class="script${cited.has(script.id) ? ' cited' : ''}" id="${anchor(index, script.id)}"><summary><strong>${h(event)}</strong>: <code>${h(script.command)}</code> <span class="dim">(${h(status)}, ${(script.endedAt - script.startedAt).toFixed(2)} s)</span></summary>`);
    const procs = pkg.session.processes.filter((p) => p.scriptId === script.id);
    const known = new Set(procs.map((p) => p.id));
    const kids = new Map<string | null, ProcessEvent[]>();
    for (const p of procs) {
      const parent = p.parentId !== null && known.has(p.parentId) ? p.parentId : null;
      kids.set(parent, [...(kids.get(parent) ?? []), p]);
    }
    const renderProc = (p: ProcessEvent): string => {
      const evs = [
        ...pkg.session.files.filter((e) => e.processId === p.id && cited.has(e.id)).map((e) => fileText(e) + ' ' + evLink(index, e.id)),
        ...pkg.session.connections.filter((e) => e.processId === p.id).map((e) => h(connText(e)) + ' ' + evLink(index, e.id)),
        ...pkg.session.dns.filter((e) => e.processId === p.id).map((e) => dnsText(e) + ' ' + evLink(index, e.id)),
      ];
      const fileCount = pkg.session.files.filter((e) => e.processId === p.id).length;
      const extra = fileCount > 0 ? `<li class="dim">${fileCount} file event${fileCount === 1 ? '' : 's'} in the timeline</li>` : '';
      const children = (kids.get(p.id) ?? []).map(renderProc).join('');
      const flags = [p.outlivedScript ? 'outlived its script' : '', p.detached ? 'detached' : '', p.killedBySandbox ? 'killed by the sandbox' : ''].filter(Boolean).join(', ');
      return `<details open class="proc${cited.has(p.id) ? ' cited' : ''}" id="${anchor(index, p.id)}"><summary class="proc">${h(p.argv.join(' ') || p.exe || '?')} <span class="dim">${h(p.id)} · pid ${p.pid}${p.exitCode !== null ? ` · exit ${p.exitCode}` : ''}${flags ? ` · ${h(flags)}` : ''}</span></summary><ul class="evs">${evs.map((e) => `<li>${e}</li>`).join('')}${extra}</ul>${children}</details>`;
    };
    out.push((kids.get(null) ?? []).map(renderProc).join(''));
    out.push('</details>');
  }
  // Timeline of file and network events.
  type Row = { time: number; id: string; script: string; proc: string; kind: string; detail: string; result: string };
  const scriptEvent = new Map(pkg.session.scripts.map((s) => [s.id, s.event]));
  const rows: Row[] = [
    ...pkg.session.files.map((e) => ({ time: e.time, id: e.id, script: e.scriptId, proc: e.processId, kind: `file ${e.op}`, detail: e.target ? `${e.path} → ${e.target}` : e.path, result: e.result })),
    ...pkg.session.connections.map((e) => ({ time: e.time, id: e.id, script: e.scriptId, proc: e.processId, kind: `net ${e.syscall}`, detail: connText(e), result: e.result })),
    ...pkg.session.dns.map((e) => ({ time: e.time, id: e.id, script: e.scriptId, proc: e.processId ?? '', kind: 'dns', detail: `${e.type} ${e.name}${e.answers.length ? ` → ${e.answers.join(', ')}` : ''}`, result: 'ok' })),
  ].sort((a, b) => a.time - b.time);
  if (rows.length > 0) {
    const start = Math.min(...pkg.session.scripts.map((s) => s.startedAt), rows[0]!.time);
    let others = 0;
    const shown = rows.filter((r) => cited.has(r.id) || !r.kind.startsWith('file') || others++ < TIMELINE_MAX);
    out.push(`<details class="timeline-box" open><summary><strong>Timeline</strong> <span class="dim">(${rows.length} file and network events${shown.length < rows.length ? `, ${rows.length - shown.length} uncited file events not shown` : ''}; ${pkg.session.suppressed.files} loader and library reads folded away)</span></summary>`);
    out.push('<table class="timeline"><thead><tr><th>t (s)</th><th>id</th><th>script</th><th>process</th><th>event</th><th>detail</th><th>result</th></tr></thead><tbody>');
    for (const r of shown) {
      out.push(
        `<tr id="${anchor(index, r.id)}"${cited.has(r.id) ? ' class="cited"' : ''}><td>${(r.time - start).toFixed(3)}</td><td class="mono">${h(r.id)}</td><td>${h(scriptEvent.get(r.script) ?? r.script)}</td><td>${r.proc ? evLink(index, r.proc) : ''}</td><td>${h(r.kind)}</td><td class="detail">${h(r.detail)}</td><td>${h(r.result)}</td></tr>`,
      );
    }
    out.push('</tbody></table></details>');
  }
  out.push('</section>');
  return out.join('\n');
}

function fileText(e: FileEvent): string {
  return `${h(e.op)} <code>${h(e.path)}</code>${e.result !== 'ok' ? ` <span class="dim">(${h(e.result)})</span>` : ''}`;
}

function connText(e: ConnectionEvent): string {
  return `${e.syscall} ${destinationOf(e)}`;
}

function dnsText(e: DnsEvent): string {
  return `dns ${h(e.name)}`;
}
