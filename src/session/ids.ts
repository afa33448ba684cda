/** Hands out the event ids of one session (`p1`, `f1`, `n1`, `d1`, `s1`...), unique within it. */
export type EventKind = 'p' | 'f' | 'n' | 'd' | 's';

export class EventIds {
  private readonly counters: Record<EventKind, number> = { p: 0, f: 0, n: 0, d: 0, s: 0 };

  next(kind: EventKind): string {
    this.counters[kind] += 1;
    return `${kind}${this.counters[kind]}`;
  }
}
