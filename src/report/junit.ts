/**
 * JUnit XML, which every CI shows as a test list: one test case per sandboxed package, failing
 * when its verdict fails the gate, with each finding (rule, severity, evidence, lockfile line) in
 * the failure text. Values from the chain go through `escapeXml`.
 */
import type { CiResult } from '../ci/types.js';
import type { Verdict } from '../rules/types.js';
import { bySeverity } from '../rules/verdict.js';
import { escapeXml as x } from './escape.js';
import { locateInLockfile } from './sarif.js';

export function renderJunit(result: CiResult, opts: { fails: (verdict: Verdict) => boolean }): string {
  const packages = result.report?.packages ?? [];
  const cases = packages.map((pkg) => {
    const where = locateInLockfile(result, pkg);
    const diff = result.diffs.find((d) => d.name === pkg.name && d.to.version === pkg.version);
    const time = pkg.session.scripts.reduce((sum, s) => sum + Math.max(0, s.endedAt - s.startedAt), 0);
    const head = `<testcase classname="${x(where.lockfile)}" name="${x(`${pkg.name}@${pkg.version}`)}" file="${x(where.lockfile)}" line="${where.line}" time="${time.toFixed(3)}">`;
    const lines = bySeverity(pkg.findings).map((f) => `${f.severity} ${f.rule}: ${f.message}${f.evidence.length > 0 ? ` [${f.evidence.join(', ')}]` : ''}`);
    if (diff) lines.unshift(`behaviour diff: ${diff.summary}`);
    lines.push(`at ${where.lockfile}:${where.line}`);
    const body = lines.join('\n');
    if (opts.fails(pkg.verdict)) {
      const first = bySeverity(pkg.findings)[0];
      const message = `${pkg.verdict}: ${first ? `${first.rule}: ${first.message}` : 'see the report'}`;
      return `    ${head}\n      <failure type="${pkg.verdict}" message="${x(message)}">${x(body)}</failure>\n    </testcase>`;
    }
    return `    ${head}\n      <system-out>${x(`${pkg.verdict}\n${body}`)}</system-out>\n    </testcase>`;
  });
  for (const hit of result.cached) {
    const label = `${hit.change.pkg.name}@${hit.change.pkg.version}`;
    cases.push(`    <testcase classname="${x(hit.change.lockfile)}" name="${x(label)}" file="${x(hit.change.lockfile)}" line="${hit.change.pkg.line}" time="0">\n      <system-out>${x(`allow (verdict cache: ${hit.reason})`)}</system-out>\n    </testcase>`);
  }
  const failures = packages.filter((pkg) => opts.fails(pkg.verdict)).length;
  const errors = result.report?.errors ?? [];
  const errorCases = errors.map(
    (error, i) => `    <testcase classname="sandbox" name="sandbox error ${i + 1}">\n      <error message="${x(error.message)}">${x(error.message)}</error>\n    </testcase>`,
  );
  const total = cases.length + errorCases.length;
  const suite = `  <testsuite name="safe-install" tests="${Math.max(total, 1)}" failures="${failures}" errors="${errorCases.length}" skipped="0">`;
  const props = `    <properties>\n      <property name="verdict" value="${result.verdict}"/>\n      <property name="base" value="${x(`${result.base.ref} ${result.base.commit ?? ''}`.trim())}"/>\n    </properties>`;
  const empty = total === 0 ? ['    <testcase classname="safe-install" name="no added or changed packages"/>'] : [];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="safe-install" tests="${Math.max(total, 1)}" failures="${failures}" errors="${errorCases.length}">`,
    suite,
    props,
    ...cases,
    ...errorCases,
    ...empty,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
