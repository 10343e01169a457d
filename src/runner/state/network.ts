import { addItem, compact } from './normalise.js';
import type { Fields } from './types.js';

/**
 * The machine's network as the networking chapters change it: its interfaces (the `cni0` bridge,
 * one veth per pod) and its iptables chains (kube-proxy's KUBE-SERVICES → KUBE-SVC → KUBE-SEP,
 * the CNI plugins' chains). One process on the machine; a machine without iptables (or not root)
 * still shows its interfaces.
 */
export const NETWORK_SCRIPT = `ip -d -j addr show 2>/dev/null || echo '[]'
echo '#--iptables--'
iptables-save 2>/dev/null || true`;

interface IpAddrEntry {
  ifname?: string;
  operstate?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** One item per interface: kind, bridge it hangs on, state, IPv4 addresses (link-local IPv6 churns). */
export function linkItems(ipJson: string): Record<string, Fields> {
  const items: Record<string, Fields> = {};
  let entries: IpAddrEntry[];
  try {
    entries = JSON.parse(ipJson) as IpAddrEntry[];
  } catch {
    return items;
  }
  if (!Array.isArray(entries)) return items;
  for (const link of [...entries].sort((a, b) => (a.ifname ?? '').localeCompare(b.ifname ?? ''))) {
    if (!link.ifname) continue;
    const ipv4 = (link.addr_info ?? [])
      .filter((a) => a.family === 'inet' && a.local)
      .map((a) => `${a.local}/${a.prefixlen}`)
      .join(',');
    addItem(items, `link ${link.ifname}`, compact({ kind: link.linkinfo?.info_kind, master: link.master, state: link.operstate, ip: ipv4 }));
  }
  return items;
}

// kube-proxy names each chain's Service in a comment: "default/nginx-deployment:http cluster IP".
const COMMENT = /--comment (?:"([^"]*)"|(\S+))/;
const DNAT = /--to-destination (\S+)/;
const PER_SERVICE_CHAIN = /^KUBE-(SVC|SEP|EXT|FW|SVL)-/;

/** One item per chain that is not built in: its table, rule count, and for kube-proxy's per-Service chains whom they serve. */
export function chainItems(iptablesSave: string): Record<string, Fields> {
  const chains = new Map<string, { rules: number; service?: string; dnat: string[] }>();
  let table = '';
  for (const line of iptablesSave.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
    } else if (line.startsWith(':')) {
      // `:NAME - [0:0]` is a chain of someone's; built-in chains have a policy instead of `-`.
      const [name = '', policy = '-'] = line.slice(1).split(' ');
      if (policy === '-') chains.set(`${table}/${name}`, { rules: 0, dnat: [] });
    } else if (line.startsWith('-A ')) {
      const name = line.split(' ')[1] ?? '';
      const chain = chains.get(`${table}/${name}`);
      if (!chain) continue;
      chain.rules += 1;
      if (PER_SERVICE_CHAIN.test(name)) {
        const comment = COMMENT.exec(line);
        const service = (comment?.[1] ?? comment?.[2])?.split(' ')[0];
        if (service && !chain.service) chain.service = service;
        const to = DNAT.exec(line)?.[1];
        if (to) chain.dnat.push(to);
      }
    }
  }
  const items: Record<string, Fields> = {};
  for (const [key, chain] of [...chains].sort(([a], [b]) => a.localeCompare(b))) {
    items[`chain ${key}`] = compact({ rules: chain.rules, service: chain.service, dnat: chain.dnat.sort().join(',') });
  }
  return items;
}

export function networkItems(stdout: string): Record<string, Fields> {
  const [ipJson = '[]', iptables = ''] = stdout.split('#--iptables--\n');
  return { ...linkItems(ipJson), ...chainItems(iptables) };
}
