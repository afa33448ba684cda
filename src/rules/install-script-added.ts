import { LIFECYCLE_EVENTS } from '../session/types.js';
import type { Rule } from './types.js';
import { listSome, shorten } from './text.js';

/**
 * A version that adds install-time scripts its previous version did not have: the classic shape
 * of a hijacked release (a maintainer account or token compromised, one patch version carrying a
 * new postinstall). medium: the scripts' own behaviour decides the rest. Only when the previous
 * version's scripts are known (`previousScripts`): null (no previous version) or absent (not
 * looked up) says nothing. A changed command for an event that already existed is not "added".
 */
export const installScriptAddedRule: Rule = {
  id: 'install-script-added',
  evaluate({ pkg, session }) {
    const previous = pkg.previousScripts;
    if (previous === undefined || previous === null) return [];
    const added = LIFECYCLE_EVENTS.filter((event) => pkg.scripts[event] !== undefined && previous[event] === undefined);
    if (added.length === 0) return [];
    const shown = added.map((event) => `${event}: ${shorten(pkg.scripts[event] ?? '', 60)}`);
    return [
      {
        rule: 'install-script-added',
        severity: 'medium',
        message: `adds install-time scripts its previous version did not have: ${listSome(shown, 3)}`,
        evidence: session.scripts.filter((script) => (added as readonly string[]).includes(script.event)).map((script) => script.id),
      },
    ];
  },
};
