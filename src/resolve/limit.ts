/**
 * Runs `fn` over `items` with at most `concurrency` in flight.
 *
 * On the first failure no new work starts, and the first error is thrown only once the work
 * already in flight has settled: the caller removes workDir right after, and a fetch still
 * writing into it would race that cleanup.
 */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!firstError && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (firstError) throw firstError.err;
  return results;
}
