/** What a version of a package newly does compared with another version of it. */
import type { LifecycleEvent } from '../session/types.js';
import type { Verdict } from '../rules/types.js';

export interface NewThing {
  /** What is new, as shown to people: a program name, `~/.npmrc`, a host. */
  what: string;
  /** Event ids in the newer version's session that show it. */
  evidence: string[];
}

export interface BehaviourDiff {
  name: string;
  from: { version: string; verdict: Verdict | null };
  to: { version: string; verdict: Verdict };
  /** Install-time scripts the newer version runs that the older did not. */
  scriptsAdded: { event: LifecycleEvent; command: string }[];
  /** Programs the newer version runs that the older never ran. */
  processes: NewThing[];
  /** Secret locations (credentials, keys, wallets...) it reads or probes that the older did not. */
  secretReads: NewThing[];
  /** Hosts (names, else address:port) it looks up or contacts that the older did not. */
  hosts: NewThing[];
  /** Rule ids the newer version triggers that the older did not. */
  newRules: string[];
  /** One sentence, the headline: "1.0.1 started reading ~/.npmrc and calling a new host (telemetry.example)". */
  summary: string;
}
