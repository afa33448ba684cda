import type { FileEvent, ProcessEvent } from '../session/types.js';
import type { Finding, Rule } from './types.js';
import { contentPath, isAttempt } from './file-changes.js';
import { displayPath } from './paths.js';
import { classifyPersistence } from './persistence-paths.js';
import { imagesOf, programNames, type RanImage } from './processes.js';
import { formatArgv, listSome } from './text.js';

/**
 * Writes that make code run later or change how tools behave for good (table:
 * ./persistence-paths.ts): shell rc files, cron, systemd/launchd/autostart, git hooks and config,
 * package-manager config, coding-agent config (hijacking an agent is persistence too), SSH
 * access, PATH shadowing. Also the commands that install such things (`crontab`,
 * `systemctl enable`, `launchctl load`, `at`). One high finding per kind of place.
 *
 * Attempts count like successes: on a developer's machine the write that failed in the
 * read-only sandbox would have worked, and no install step has a reason to try.
 */
export const persistenceRule: Rule = {
  id: 'persistence',
  evaluate({ session, paths }) {
    const byLabel = new Map<string, { shown: Set<string>; events: FileEvent[] }>();
    for (const event of session.files) {
      const path = contentPath(event);
      if (path === undefined || !isAttempt(event)) continue;
      const match = classifyPersistence(path, paths);
      if (!match) continue;
      const entry = byLabel.get(match.location.label) ?? { shown: new Set<string>(), events: [] };
      entry.shown.add(displayPath(match.path, { home: paths.home }));
      entry.events.push(event);
      byLabel.set(match.location.label, entry);
    }

    const findings: Finding[] = [...byLabel].map(([label, { shown, events }]) => {
      const succeeded = events.some((event) => event.result === 'ok');
      const errors = succeeded ? '' : ` (${[...new Set(events.map((event) => event.result))].join(', ')})`;
      return {
        rule: 'persistence',
        severity: 'high',
        message: `${succeeded ? 'writes' : 'tries to write'} ${label}: ${listSome([...shown])}${errors}`,
        evidence: events.map((event) => event.id),
      };
    });
    const schedulers = session.processes.flatMap((process) => schedulerImages(process).map((image) => ({ process, image })));
    if (schedulers.length > 0) {
      findings.push({
        rule: 'persistence',
        severity: 'high',
        message: `installs a scheduled or startup job: ${listSome(schedulers.map(({ image }) => formatArgv(image.argv, 60)), 2)}`,
        evidence: [...new Set(schedulers.map(({ process }) => process.id))],
      });
    }
    return findings;
  },
};

/** `crontab FILE` / `crontab -` (not -l), `systemctl [--user] enable|link`, `launchctl load|bootstrap`, `at`/`batch`. */
function schedulerImages(process: ProcessEvent): RanImage[] {
  return imagesOf(process).filter((image) => {
    const names = programNames(image);
    const args = image.argv.slice(1);
    if (names.includes('crontab')) return !args.some((arg) => /^-[a-zA-Z]*[lr]/.test(arg));
    if (names.includes('systemctl')) return args.some((arg) => arg === 'enable' || arg === 'link' || arg === 'preset');
    if (names.includes('launchctl')) return args.some((arg) => arg === 'load' || arg === 'bootstrap' || arg === 'submit');
    return names.includes('at') || names.includes('batch');
  });
}
