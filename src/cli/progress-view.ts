/**
 * Shows the core's progress on stderr: one live status line on a terminal, plain lines
 * otherwise (CI logs, agents), so stdout stays the report alone.
 */
import type { ScanProgress } from '../pipeline/progress.js';

export interface ProgressView {
  update(ev: ScanProgress): void;
  done(): void;
}

export function createProgressView(stream: NodeJS.WriteStream, quiet: boolean): ProgressView {
  if (quiet) return { update: () => undefined, done: () => undefined };
  const live = stream.isTTY === true;
  let shown = false;
  const lastCount = new Map<string, number>();
  const show = (text: string, permanent: boolean): void => {
    if (live) {
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`\r\x1b[K${text.slice(0, width)}${permanent ? '\n' : ''}`);
      shown = !permanent;
    } else if (permanent) {
      stream.write(`${text}\n`);
    }
  };
  return {
    update(ev) {
      switch (ev.stage) {
        case 'resolve':
        case 'fetch': {
          const verb = ev.stage === 'resolve' ? 'resolving' : 'fetching';
          const finished = ev.total > 0 && ev.done === ev.total;
          if (live) show(`${verb} ${ev.done}/${ev.total}${ev.name ? ` ${ev.name}` : ''}`, false);
          else if (finished && lastCount.get(ev.stage) !== ev.total) show(`${verb}: ${ev.total} package${ev.total === 1 ? '' : 's'}`, true);
          lastCount.set(ev.stage, ev.done);
          break;
        }
        case 'image':
          show(`sandbox image: ${ev.message}`, !live);
          break;
        case 'sandbox':
          show(ev.message, true);
          break;
        case 'script':
          show(`sandboxing ${ev.index}/${ev.total} ${ev.package} ${ev.event}: ${ev.command}`, !live);
          break;
        case 'script-done':
          show(`  ${ev.package} ${ev.event}: ${ev.outcome} (${ev.seconds.toFixed(1)} s)`, true);
          break;
        case 'cache':
          if (ev.total > 0) show(`verdict cache: ${ev.hits} of ${ev.total} package${ev.total === 1 ? '' : 's'} with install scripts already allowed`, true);
          break;
        case 'verdict':
          show(`verdict: ${ev.verdict}`, true);
          break;
        case 'reify':
          show(ev.message, !live);
          break;
      }
    },
    done() {
      if (live && shown) stream.write('\r\x1b[K');
    },
  };
}
