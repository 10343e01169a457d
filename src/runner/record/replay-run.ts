import type { RunInstrument } from '../instrument.js';
import type { NodeTargets } from '../targets/nodes.js';
import { nodePrefix } from './calls.js';
import { ReplayClients, type ReplaySession } from './replay.js';
import { ReplayTarget } from './replay-target.js';

export interface ReplayRun {
  session: ReplaySession;
  /** The recorded run's first node, answering from the transcript. */
  target: ReplayTarget;
  /** Its other nodes, answering under their `nodes.NAME.` calls. */
  nodes: NodeTargets;
  instrument: RunInstrument;
}

/**
 * What `runBook` needs to run against a transcript, all in one: the machine is the transcript
 * (targets, clients), its snapshots are the recorded ones, its waits need no sleep.
 */
export function startReplay(session: ReplaySession, place: { runtimeDir?: string; dockerSocket?: string } = {}): ReplayRun {
  return {
    session,
    target: new ReplayTarget(session, place.runtimeDir, place.dockerSocket),
    nodes: replayNodes(session),
    instrument: {
      clients: (target, kubeconfig, node) => new ReplayClients(target, kubeconfig, session, node),
      snapshot: () => () => session.snapshot(),
      enterBlock: (block) => session.enter(block),
      bindAbort: (abort) => session.bindAbort(abort),
      diagnose: async (block) => session.diagnostics(block),
      instantWaits: true,
    },
  };
}

/** The recorded run's other nodes: targets answering from the transcript under their `nodes.NAME.` calls. */
function replayNodes(session: ReplaySession): NodeTargets {
  const recorded = session.transcript.target.nodes ?? [];
  const place = (name: string) => {
    const node = recorded.find((n) => n.name === name);
    if (!node) throw new Error(`the transcript has no node named "${name}"`);
    return { runtimeDir: node.runtimeDir, dockerSocket: node.dockerSocket };
  };
  return {
    names: recorded.map((n) => n.name),
    place,
    open: async (name) => new ReplayTarget(session, place(name).runtimeDir, place(name).dockerSocket, nodePrefix(name), name),
  };
}
