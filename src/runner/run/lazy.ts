/**
 * Objects a block reaches by a path: `k8s.core.listNode()`, `nodes['k8s-worker'].docker.ping()`.
 * The chapter's kernel thread sends such paths to the runner (isolate/host.ts walks them); a
 * kernel in the runner's own thread (isolate: false) gets the same objects, made here, so that in
 * both the object is found when the block first uses it (the `k8s` client re-read, the nodes
 * opened), not chosen beforehand by reading the block's text.
 */

/** One step of a path: a property read, or a call with its arguments. */
export type Step = { get: string } | { call: unknown[] };

/** Walks a path from a value: properties read, methods called on their object and awaited. */
export async function walk(root: unknown, steps: readonly Step[], name = 'value'): Promise<unknown> {
  let value = root;
  let owner: unknown;
  let where = name;
  for (const step of steps) {
    if ('get' in step) {
      owner = value;
      value = (value as Record<string, unknown>)[step.get];
      where += `.${step.get}`;
    } else {
      if (typeof value !== 'function') throw new TypeError(`${where} is not a function`);
      value = await (value as (...a: unknown[]) => unknown).apply(owner, step.call);
      owner = undefined;
      where += '()';
    }
  }
  return value;
}

/**
 * An object found on first use: reading a property extends the path, awaiting it walks the path
 * from `open()`'s answer, and calling it makes the call at once (its answer a promise whose
 * properties extend the path further: `docker.getContainer(id).inspect()`). As a kernel thread
 * sees the runner's objects: values are awaited (`await k8s.server`).
 */
export function deferred<T>(open: () => Promise<unknown>, name: string, path: readonly Step[] = []): T {
  let value: Promise<unknown> | undefined;
  return new Proxy(() => {}, {
    get(_, key) {
      if (key === 'then') {
        if (path.length === 0) return undefined;
        value ??= open().then((root) => walk(root, path, name));
        return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => (value as Promise<unknown>).then(resolve, reject);
      }
      if (typeof key === 'symbol') return undefined;
      return deferred(open, name, [...path, { get: key }]);
    },
    apply(_, __, args: unknown[]) {
      const steps = [...path, { call: args }];
      const answer = open().then((root) => walk(root, steps, name));
      return new Proxy(
        {},
        {
          get(__, key) {
            if (typeof key === 'symbol') return undefined;
            if (key === 'then' || key === 'catch' || key === 'finally') return answer[key].bind(answer);
            return deferred(open, name, [...steps, { get: key }]);
          },
        },
      );
    },
  }) as T;
}
