/**
 * The order in which the sandbox runs packages' scripts: every package after the packages it
 * depends on, so a dependent's script can use its dependencies' build output.
 *
 * npm 7+ itself runs each event (preinstall, then install, then postinstall) across all
 * packages at once, queued shallowest first. Dependencies-first is the order in which a
 * dependent's script can rely on a dependency's build, and the one npm 6 used.
 * Ties and cycles are broken deepest first, then by location, so the order is deterministic.
 */
export interface Orderable {
  location: string;
  dependencies: string[];
}

export function scriptOrder<T extends Orderable>(packages: readonly T[]): T[] {
  const byLocation = new Map(packages.map((p) => [p.location, p]));
  const waitingOn = new Map<T, number>();
  const dependents = new Map<string, T[]>();
  for (const p of packages) {
    const deps = new Set(p.dependencies.filter((d) => d !== p.location && byLocation.has(d)));
    waitingOn.set(p, deps.size);
    for (const d of deps) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(p);
    }
  }

  const ready = new Heap<T>(before);
  for (const [p, n] of waitingOn) if (n === 0) ready.push(p);
  const done = new Set<T>();
  const out: T[] = [];
  while (out.length < packages.length) {
    let p = ready.pop();
    if (p === undefined) {
      // A cycle: nothing is free, so release the one that would sort first.
      p = [...waitingOn.keys()].filter((q) => !done.has(q)).sort((a, b) => (before(a, b) ? -1 : 1))[0]!;
    }
    if (done.has(p)) continue;
    done.add(p);
    out.push(p);
    for (const d of dependents.get(p.location) ?? []) {
      const left = (waitingOn.get(d) ?? 0) - 1;
      waitingOn.set(d, left);
      if (left === 0 && !done.has(d)) ready.push(d);
    }
  }
  return out;
}

export function depthOf(location: string): number {
  return location.split('/').filter((s) => s === 'node_modules').length;
}

function before(a: Orderable, b: Orderable): boolean {
  const da = depthOf(a.location);
  const db = depthOf(b.location);
  if (da !== db) return da > db;
  return a.location < b.location;
}

/** Minimal binary heap: trees have thousands of packages, so no re-sorting per pick. */
class Heap<T> {
  private items: T[] = [];
  constructor(private readonly first: (a: T, b: T) => boolean) {}

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.first(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.first(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.first(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
