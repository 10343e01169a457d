/** The node a target is (its blocks' `$`, `docker`, `machine`); the others are `nodes['NAME']`. */
export const FIRST_NODE = 'k8s-master';

/** The second node of the local, vagrant and docker targets (an ssh target names its own in book.yaml). */
export const WORKER_NODE = 'k8s-worker';
