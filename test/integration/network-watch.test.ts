// The snapshot's network source reads the machine's interfaces and iptables only when something
// changed there (netlink notifications in the Python agent), and never misses a change: in a
// sealed namespace of the test's own, with real links, addresses and nftables chains.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MachineClients } from '../../src/runner/clients.js';
import { takeSnapshot } from '../../src/runner/state/index.js';
import { NETWORK_SCRIPT } from '../../src/runner/state/network.js';
import { AgentClient } from '../../src/runner/targets/agent.js';
import { LocalTarget, localAgentArgv } from '../../src/runner/targets/local.js';
import { canUseNetns, createNetns } from '../helpers/netns.js';

const NETNS = 'book-netwatch';
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

describe.skipIf(!canUseNetns)('watching the machine network for changes', () => {
  let ns: { remove: () => void };
  beforeAll(() => {
    ns = createNetns(NETNS);
  });
  afterAll(() => ns.remove());

  it('the Python agent says changed exactly after a link, an address or an iptables chain changed', async () => {
    const agent = new AgentClient(['nsenter', `--net=/var/run/netns/${NETNS}`, '--', ...localAgentArgv('python')]);
    try {
      const run = async (command: string) => {
        // A missing iptables is exit 127: the message says so (apt-get install iptables).
        const result = await agent.exec(command, ENV, {});
        expect(result.exitCode, `${command}: ${result.stderr.trim()}`).toBe(0);
      };
      expect(await agent.networkChanged()).toBe(true); // the first ask cannot know
      expect(await agent.networkChanged()).toBe(false);
      await run('true');
      expect(await agent.networkChanged()).toBe(false);
      for (const change of [
        'ip link add book-v0 type veth peer name book-v1',
        'ip addr add 10.77.0.1/24 dev book-v0',
        'ip link set book-v0 up',
        'ip link add book-br0 type bridge && ip link set book-v1 master book-br0',
        'iptables -t nat -N BOOK-TEST',
        'iptables -t nat -A BOOK-TEST -j RETURN',
        'iptables -t nat -F BOOK-TEST && iptables -t nat -X BOOK-TEST',
        'ip link del book-v0 && ip link del book-br0',
      ]) {
        await run(change);
        expect(await agent.networkChanged(), change).toBe(true);
        expect(await agent.networkChanged(), `${change}, asked again`).toBe(false);
      }
    } finally {
      agent.close();
    }
  });

  it('the Node agent cannot watch: it always says changed', async () => {
    const agent = new AgentClient(['nsenter', `--net=/var/run/netns/${NETNS}`, '--', ...localAgentArgv('node')]);
    try {
      expect(await agent.networkChanged()).toBe(true);
      expect(await agent.networkChanged()).toBe(true);
    } finally {
      agent.close();
    }
  });

  it('a snapshot reuses the network it read while nothing changed, and reads again after any change', async () => {
    const runtimeDir = mkdtempSync(path.join(tmpdir(), 'book-netwatch-'));
    const target = new LocalTarget({ name: 'netwatch', netns: NETNS, runtimeDir, dockerSocket: path.join(runtimeDir, 'docker.sock'), env: {} });
    const exec = target.exec.bind(target);
    let reads = 0;
    target.exec = (command, options) => {
      if (command === NETWORK_SCRIPT) reads += 1;
      return exec(command, options);
    };
    const network = async () => {
      const s = await takeSnapshot({ target, clients: new MachineClients(target, path.join(runtimeDir, 'kubeconfig')), timeoutMs: 5000 });
      expect(s.sources.network.available).toBe(true);
      return s.sources.network.available ? s.sources.network.items : {};
    };
    try {
      const first = await network();
      expect(first['link lo']).toBeDefined();
      expect(await network()).toEqual(first);
      expect(await network()).toEqual(first);
      expect(reads).toBe(1);
      await target.exec('ip link add book-d1 type veth peer name book-d2 && iptables -N BOOK-SNAP');
      const after = await network();
      expect(reads).toBe(2);
      expect(after['link book-d1']).toMatchObject({ kind: 'veth' });
      expect(after['chain filter/BOOK-SNAP']).toMatchObject({ rules: '0' });
      await target.exec('ip addr add 10.78.0.1/24 dev book-d1');
      expect((await network())['link book-d1']).toMatchObject({ ip: '10.78.0.1/24' });
      expect(reads).toBe(3);
    } finally {
      await target.close();
      rmSync(runtimeDir, { recursive: true, force: true });
    }
  });
});
