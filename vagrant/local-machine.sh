#!/usr/bin/env bash
# local-machine.sh up|status|down — the lifecycle of the book's machine on THIS Linux host (the
# `local` target; `book machine up|status|down --target local` calls it).
#
# The machine is a sealed network namespace, book-minikube (/var/run/netns/book-minikube): lo up,
# no route off the box (no veth to the host); its one route is docker0. Inside it run our own
# dockerd (socket unix:///run/book-machine/docker.sock, data-root /var/lib/book-machine/docker;
# any Docker of the host is left alone) and cri-dockerd (unix:///var/run/cri-dockerd.sock), as a
# VM would run them. Enter it with `nsenter --net=/var/run/netns/book-minikube` — NOT `ip netns
# exec`, which remounts /sys and makes dockerd die with "Devices cgroup isn't mounted".
#
#   up      provision if needed (offline by default: BOOK_SOURCE), create the namespace, start
#           dockerd and cri-dockerd in it, wait until they answer, load the images. Warm: seconds.
#   status  versions, images, namespace and daemons (running/stopped, pid). --json for machines.
#           Exit 0 when the machine is up, 3 when it is not.
#   down    stop the daemons the runner started (/run/book-machine/daemons/NAME.pid: the process
#           group, SIGTERM then SIGKILL) and any other process left in the namespace, remove every
#           container, stop cri-dockerd and dockerd, unmount what they mounted, restore the kernel
#           settings the kubelet changed, delete the namespace and what the book wrote
#           (/etc/kubernetes, /var/lib/kubelet, /var/lib/etcd, /run/book-machine,
#           /var/lib/book-machine). Installed packages, /usr/local/bin and $BOOK_CACHE stay.
#           BOOK_MACHINE_KEEP_DATA=1 keeps Docker's data-root (images) for a faster next up.
#
# A second node, k8s-worker (docs/two-nodes.md), comes up with the first unless BOOK_WORKER= (empty):
# its own network namespace (book-worker) and mount namespace (/run/book-nodes/k8s-worker.mnt, in
# which /etc/kubernetes, /var/lib/kubelet, /var/log/pods, /var/log/containers, /etc/cni and
# /var/lib/cni are its own), its own dockerd (unix:///run/book-worker/docker.sock) and cri-dockerd
# (unix:///run/book-worker/cri-dockerd.sock). The nodes' eth0 are the two ends of one veth pair,
# 192.168.56.10 and .11: the only link either has. Enter the worker with
# `nsenter --mount=/run/book-nodes/k8s-worker.mnt --net=/var/run/netns/book-worker`.
#
# Exit codes: 0 ok, 2 bad arguments, 3 the machine cannot be brought up (the message says why
# and what to do).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"
# shellcheck source=vagrant/images.sh
source "$here/images.sh"

# The target's netns and runtimeDir (book.yaml) reach this script as BOOK_NETNS, BOOK_RUNTIME_DIR.
NETNS=${BOOK_NETNS:-book-minikube}
NETNS_FILE=/var/run/netns/$NETNS
# The node address inside the namespace (the seed's Vagrant VMs used 192.168.56.x).
NODE_IP=${BOOK_NODE_IP:-192.168.56.10}
RUN_DIR=${BOOK_RUNTIME_DIR:-/run/book-machine}
STATE_DIR=/var/lib/book-machine/state   # survives a crash of the host's /run; removed by down
# One local machine per host: its first node's files (/etc/kubernetes, /var/lib/book-machine, the
# CRI socket) are this host's own, so a second book's machine in another netns cannot sit beside
# it. The netns of the machine that is up is kept here; up and down refuse another's.
OWNER_FILE=$STATE_DIR/netns

# The second node. BOOK_WORKER= (empty) makes a machine of one node.
WORKER=${BOOK_WORKER-k8s-worker}
WORKER_NETNS=book-worker
WORKER_NETNS_FILE=/var/run/netns/$WORKER_NETNS
WORKER_IP=${BOOK_WORKER_IP:-192.168.56.11}
NODES_NS_DIR=/run/book-nodes          # the nodes' mount namespaces, kept as `ip netns` keeps its own
WORKER_MNT=$NODES_NS_DIR/$WORKER.mnt
WORKER_OWNER=$NODES_NS_DIR/$WORKER.master   # the master's netns name (src/runner/targets/nodes.ts reads it)
WORKER_RUN=/run/book-worker
WORKER_DATA=/var/lib/book-machine/nodes/$WORKER
# In the worker's mount namespace these are its own: bind mounts of $WORKER_DATA/root/PATH.
WORKER_PATHS=(/etc/kubernetes /var/lib/kubelet /var/log/pods /var/log/containers /etc/cni /var/lib/cni)

# The nodes are named master and worker: every function that acts on a node takes one of them as
# its first argument and looks up the rest with node_conf and node_enter (daemons.sh asks for both).
# node_conf master|worker ARRAY — fill the associative array ARRAY with the node's settings: name,
# netns, netns_file, run (its runtime folder), data, log_dir, daemons_dir, docker_host, docker_sock,
# docker_pid, docker_data, docker_exec, cgroup_parent, cri_sock, cri_pid, cri_root.
node_conf() {
  local -n _node_conf=$2
  case $1 in
    master) _node_conf=([name]=k8s-master [netns]=$NETNS [netns_file]=$NETNS_FILE [run]=$RUN_DIR
              [data]=/var/lib/book-machine [cgroup_parent]=/book-machine [cri_sock]=/var/run/cri-dockerd.sock) ;;
    worker) _node_conf=([name]=$WORKER [netns]=$WORKER_NETNS [netns_file]=$WORKER_NETNS_FILE [run]=$WORKER_RUN
              [data]=$WORKER_DATA [cgroup_parent]=/book-worker [cri_sock]=$WORKER_RUN/cri-dockerd.sock) ;;
    *) echo "$0: internal error: no node '$1' (master|worker)" >&2; exit 1 ;;
  esac
  _node_conf+=(
    [log_dir]=${_node_conf[run]}/logs [daemons_dir]=${_node_conf[run]}/daemons
    [docker_sock]=${_node_conf[run]}/docker.sock [docker_host]=unix://${_node_conf[run]}/docker.sock
    [docker_exec]=${_node_conf[run]}/docker [docker_pid]=${_node_conf[run]}/dockerd.pid
    [docker_data]=${_node_conf[data]}/docker [cri_root]=${_node_conf[data]}/cri-dockerd
    [cri_pid]=${_node_conf[run]}/cri-dockerd.pid)
}
# node_enter master|worker ARRAY — fill the array ARRAY with the argv prefix that enters the node.
node_enter() {
  local -n _node_enter=$2
  case $1 in
    master) _node_enter=(nsenter --net="$NETNS_FILE") ;;
    worker) _node_enter=(nsenter --mount="$WORKER_MNT" --net="$WORKER_NETNS_FILE") ;;
    *) echo "$0: internal error: no node '$1' (master|worker)" >&2; exit 1 ;;
  esac
}
# What the book writes on the machine, removed by down.
BOOK_PATHS=(/etc/kubernetes /var/lib/kubelet /var/lib/etcd)
# Created by the kubelet, cri-dockerd and dockerd; removed by down unless they existed before up.
# CNI's configuration and host-local's IP files (the pod-network chapter) count among them.
RUNTIME_PATHS=(/var/log/pods /var/log/containers /run/docker /var/run/netns /etc/cni /var/lib/cni)
# Kernel settings the kubelet sets at start (global, not per namespace); restored by down.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

say() { printf '[machine %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
unfit() { # WHAT WHAT-TO-DO
  say "ERROR: the local machine cannot be brought up: $1"
  [[ -z ${2:-} ]] || say "  what to do: $2"
  exit 3
}

# netns_id NODE — the inode of the node's network namespace
netns_id() { local -A c; node_conf "$1" c; stat -L -c %i "${c[netns_file]}" 2>/dev/null; }
# in_our_ns NODE PID — the process lives in the node's network namespace
in_our_ns() {
  local id; id=$(netns_id "$1") || return 1
  [[ $(readlink "/proc/$2/ns/net" 2>/dev/null) == "net:[$id]" ]]
}

require_root_linux() {
  [[ $(uname -s) == Linux ]] || unfit "the local target needs Linux (this is $(uname -s))" "use --target vagrant"
  [[ $(id -u) -eq 0 ]] || unfit "the local target needs root" "run as root (sudo), or use --target vagrant / --target ssh"
  if ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
    unfit "nsenter and ip are missing" "apt-get install util-linux iproute2"
  fi
}

# shellcheck source=vagrant/daemons.sh
source "$here/daemons.sh"

# The worker's mount namespace: a copy of this host's mounts at the moment it is made, kept by a
# bind mount of its file. The copies of the master's mounts (its netns file, dockerd's overlays, the
# kubelet's volumes) are dropped, or the worker would hold them and the master could not let go.
create_worker_mount_ns() {
  mkdir -p "$NODES_NS_DIR"
  # A private mount of its own, as `ip netns` makes /run/netns: a namespace file cannot sit on a
  # shared mount (systemd hosts share /).
  if ! mountpoint -q "$NODES_NS_DIR"; then mount --bind "$NODES_NS_DIR" "$NODES_NS_DIR"; fi
  mount --make-private "$NODES_NS_DIR"
  if [[ -z $(findmnt -n -o TARGET "$WORKER_MNT" 2>/dev/null) ]]; then
    say "mount namespace: creating $WORKER_MNT"
    touch "$WORKER_MNT"
    unshare --mount="$WORKER_MNT" --propagation private true \
      || unfit "cannot create the worker's mount namespace" "check 'unshare --mount' works as root"
    local m mounts
    mounts=$(nsenter --mount="$WORKER_MNT" findmnt -rn -o TARGET)
    while read -r m; do
      [[ -n $m ]] && { nsenter --mount="$WORKER_MNT" umount -l "$m" 2>/dev/null || true; }
    done < <(grep -E '^(/var/lib/kubelet|/var/lib/book-machine|/run/book-machine|/var/lib/etcd|/run/netns/|/run/book-nodes/)' <<<"$mounts" | sort -r)
  fi
  # Whose worker this is: the runner opens it only for a book whose target is this master's netns.
  printf '%s\n' "$NETNS" >"$WORKER_OWNER.tmp" && mv -f "$WORKER_OWNER.tmp" "$WORKER_OWNER"
  # The worker's own folders. The mount points are made on this host too (the file system is
  # shared); `down` removes them with the master's (BOOK_PATHS, RUNTIME_PATHS).
  local p
  for p in "${WORKER_PATHS[@]}"; do
    mkdir -p "$p" "$WORKER_DATA/root$p"
    if [[ -z $(nsenter --mount="$WORKER_MNT" findmnt -n -o TARGET "$p" 2>/dev/null) ]]; then
      nsenter --mount="$WORKER_MNT" mount --bind "$WORKER_DATA/root$p" "$p"
    fi
  done
}

# Each kubelet's root (/var/lib/kubelet) on a mount with shared propagation before the kubelet
# first starts. Otherwise the kubelet bind-mounts it onto itself at start-up (MakeRShared), while
# another of its goroutines renames the pod-resources socket into it: a rename that straddles the
# new mount fails with EXDEV, and the kubelet exits ("Failed to create listener for podResources
# endpoint ... invalid cross-device link", k3s-io/k3s#4042). `down` unmounts it with the rest.
# The docker target's nodes make / rshared instead (node-image.sh); systemd hosts share / already.
share_kubelet_roots() {
  mkdir -p /var/lib/kubelet
  mountpoint -q /var/lib/kubelet || mount --bind /var/lib/kubelet /var/lib/kubelet
  mount --make-rshared /var/lib/kubelet
  [[ -z $WORKER ]] || nsenter --mount="$WORKER_MNT" mount --make-rshared /var/lib/kubelet
}

# The network between the nodes: each node's eth0, the two ends of one veth pair. Without a
# worker, the master's eth0 is a pair whose other end (eth0-peer) stays in its own namespace.
connect_nodes() {
  if [[ -n $WORKER ]]; then
    # A card from a one-node machine, or one whose other end is gone: made again.
    if ip -n "$NETNS" link show eth0-peer >/dev/null 2>&1 || ! ip -n "$WORKER_NETNS" link show eth0 >/dev/null 2>&1; then
      ip -n "$NETNS" link del eth0 2>/dev/null || true
    fi
    if ! ip -n "$NETNS" link show eth0 >/dev/null 2>&1; then
      ip -n "$NETNS" link add eth0 type veth peer name eth0 netns "$WORKER_NETNS" \
        || unfit "cannot link the nodes (veth between $NETNS and $WORKER_NETNS)" "check 'ip link add type veth' works as root"
      ip -n "$NETNS" addr add "$NODE_IP/24" dev eth0
      ip -n "$WORKER_NETNS" addr add "$WORKER_IP/24" dev eth0
    fi
    ip -n "$WORKER_NETNS" link set eth0 up
  else
    # The node's own address, as a VM's network card would give it: a veth pair whose both ends
    # stay in the namespace (kernels without the dummy driver have veth: Docker needs it), so it
    # leads nowhere and there is still no route off the box.
    if ! ip -n "$NETNS" link show eth0 >/dev/null 2>&1; then
      ip -n "$NETNS" link add eth0 type veth peer name eth0-peer \
        || unfit "cannot create the machine's network card (veth) in $NETNS" "check 'ip link add type veth' works as root"
      ip -n "$NETNS" addr add "$NODE_IP/24" dev eth0
    fi
    ip -n "$NETNS" link set eth0-peer up
  fi
  # The kubelet registers the address as the node's InternalIP.
  ip -n "$NETNS" link set eth0 up
}

# write_machine_env NODE — machine.env: what the runner and `book machine shell` need of a node.
write_machine_env() {
  local -A c; node_conf "$1" c
  cat >"${c[run]}/machine.env" <<ENV
BOOK_NODE=${c[name]}
BOOK_NETNS=${c[netns]}
BOOK_NETNS_FILE=${c[netns_file]}
DOCKER_HOST=${c[docker_host]}
CONTAINER_RUNTIME_ENDPOINT=unix://${c[cri_sock]}
BOOK_DAEMONS_DIR=${c[daemons_dir]}
BOOK_LOG_DIR=${c[log_dir]}
ENV
}

cmd_up() {
  require_root_linux
  local t0; t0=$(date +%s%N)
  local -A master worker c
  node_conf master master
  [[ -z $WORKER ]] || node_conf worker worker
  # 1. provision (packages, binaries, image tarballs); warm: a few seconds. DOCKER_HOST: the
  # machine's Docker, never the reader's (--daemons none --no-images reaches none).
  DOCKER_HOST=${master[docker_host]} "$here/provision.sh" --source "${BOOK_SOURCE:-offline}" --daemons none --keep-swap --no-images >&2 \
    || { local rc=$?; [[ $rc -eq 3 ]] && exit 3; unfit "provisioning failed (exit $rc)" "read the lines above; the offline build log is $BOOK_CACHE/logs/build-offline.log"; }

  # 2. remember what existed before, and the kernel settings the kubelet may change
  mkdir -p "$STATE_DIR"
  if [[ ! -f $STATE_DIR/preexisting ]]; then
    local p
    for p in "${RUNTIME_PATHS[@]}"; do [[ -e $p ]] && echo "$p"; done >"$STATE_DIR/preexisting"
    for p in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$p" "$(sysctl -n "$p" 2>/dev/null)"; done >"$STATE_DIR/sysctl"
  fi

  # 3. the sealed namespaces: lo only; docker0 appears when dockerd starts
  if [[ ! -e $NETNS_FILE ]]; then
    say "netns: creating $NETNS"
    ip netns add "$NETNS" || unfit "cannot create network namespace $NETNS" "check 'ip netns add' works as root"
  fi
  ip -n "$NETNS" link set lo up
  if [[ -n $WORKER ]]; then
    if [[ ! -e $WORKER_NETNS_FILE ]]; then
      say "netns: creating $WORKER_NETNS ($WORKER)"
      ip netns add "$WORKER_NETNS" || unfit "cannot create network namespace $WORKER_NETNS" "check 'ip netns add' works as root"
    fi
    ip -n "$WORKER_NETNS" link set lo up
    create_worker_mount_ns
    # The worker's kubelet runs with --cgroup-root=/book-worker: two kubelets in one kubepods
    # hierarchy would each take the other's pod cgroups for orphans. The root must exist.
    local h
    for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
      if [[ -d $h && -e ${h}cgroup.procs ]]; then mkdir -p "${h}book-worker"; fi
    done
  fi
  share_kubelet_roots
  connect_nodes
  local ns default_route
  for ns in "$NETNS" ${WORKER:+"$WORKER_NETNS"}; do
    default_route=$(ip -n "$ns" route show default)
    if [[ -n $default_route ]]; then
      unfit "namespace $ns has a default route (traffic could leave the box)" "run '$0 down', then '$0 up'"
    fi
  done

  # 4. daemons, images: the master, then the worker
  local node t1
  for node in master ${WORKER:+worker}; do
    node_conf "$node" c
    mkdir -p "${c[log_dir]}" "${c[daemons_dir]}"
    start_dockerd "$node"
    t1=$(date +%s%N)
    # The worker runs no control plane: its images are the node's (pause, kube-proxy) and the pods'.
    local skip=''
    [[ $node == worker ]] && skip='^registry\.k8s\.io/(kube-apiserver|kube-controller-manager|kube-scheduler|etcd):'
    DOCKER_HOST=${c[docker_host]} images_load "$skip" || unfit "cannot load the images from $IMAGES_CACHE into ${c[name]}'s Docker" "run $here/build-offline.sh images"
    say "images (${c[name]}): loaded in $(( ($(date +%s%N) - t1) / 1000000 )) ms"
    start_cri_dockerd "$node"
    write_machine_env "$node"
  done

  say "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms — enter it with: nsenter --net=$NETNS_FILE bash  (DOCKER_HOST=${master[docker_host]})"
  if [[ -n $WORKER ]]; then
    say "  the worker: nsenter --mount=$WORKER_MNT --net=$WORKER_NETNS_FILE bash  (DOCKER_HOST=${worker[docker_host]})"
  fi
}

# ---------------------------------------------------------------------------------------------
version_of() { # NAME CMD...
  # No `| head -n1`: with pipefail, a command killed by SIGPIPE on its second line reads as missing.
  local out; out=$("${@:2}" 2>&1) || out="missing"
  out=${out%%$'\n'*}
  [[ -n $out ]] || out=missing
  printf '%s' "$out"
}

cmd_status() {
  local json=0; [[ ${1:-} == --json ]] && json=1
  local kubelet kubectl etcd cri dockerd
  kubelet=$(version_of kubelet "$BOOK_BIN_DIR/kubelet" --version)
  kubectl=$(version_of kubectl "$BOOK_BIN_DIR/kubectl" version --client)
  etcd=$(version_of etcd "$BOOK_BIN_DIR/etcd" --version)
  cri=$(version_of cri-dockerd "$BOOK_BIN_DIR/cri-dockerd" --version)
  dockerd=$(version_of dockerd /usr/sbin/dockerd --version)

  local -A master worker
  node_conf master master
  [[ -z $WORKER ]] || node_conf worker worker
  local -a names=() pids=() states=()
  add_daemon() { names+=("$1"); pids+=("${2:-}"); if alive "${2:-}"; then states+=(running); else states+=(stopped); fi; }
  # add_node_daemons NODE [PREFIX] — the node's dockerd and cri-dockerd (first, in that order), then
  # the runner's daemons on it
  add_node_daemons() {
    local -A c; node_conf "$1" c
    local prefix=${2:-} f
    add_daemon "${prefix}dockerd" "$(pid_of "${c[docker_pid]}" || true)"
    add_daemon "${prefix}cri-dockerd" "$(cri_dockerd_pid "$1" || true)"
    for f in "${c[daemons_dir]}"/*.pid; do
      [[ -e $f ]] || continue
      add_daemon "$prefix$(basename "$f" .pid)" "$(pid_of "$f" || true)"
    done
  }
  add_node_daemons master
  local netns=absent; [[ -e $NETNS_FILE ]] && netns=present
  local up=0
  [[ $netns == present && ${states[0]} == running && ${states[1]} == running ]] && up=1
  # The worker's daemons, named NODE/NAME.
  local worker_netns=absent nodes_json='[]'
  nodes_json=$(jq -c --arg ns "$NETNS" --arg s "$netns" --arg d "${master[docker_host]}" --arg c "unix://${master[cri_sock]}" \
    '. + [{name: "k8s-master", netns: $ns, state: $s, dockerHost: $d, criEndpoint: $c}]' <<<"$nodes_json")
  if [[ -n $WORKER ]]; then
    local first=${#names[@]}
    add_node_daemons worker "$WORKER/"
    [[ -e $WORKER_NETNS_FILE && -n $(findmnt -n -o TARGET "$WORKER_MNT" 2>/dev/null) ]] && worker_netns=present
    [[ $worker_netns == present && ${states[$first]} == running && ${states[$((first + 1))]} == running ]] || up=0
    nodes_json=$(jq -c --arg n "$WORKER" --arg ns "$WORKER_NETNS" --arg s "$worker_netns" --arg d "${worker[docker_host]}" --arg c "unix://${worker[cri_sock]}" --arg m "$WORKER_MNT" \
      '. + [{name: $n, netns: $ns, mountNamespace: $m, state: $s, dockerHost: $d, criEndpoint: $c}]' <<<"$nodes_json")
  fi

  local -a img_names=() img_states=()
  local ref
  while read -r ref; do
    img_names+=("$ref")
    if [[ ${states[0]} == running ]] && node_docker master image inspect "$ref" >/dev/null 2>&1; then img_states+=(present); else img_states+=(absent); fi
  done < <(images_expected)

  if [[ $json -eq 1 ]]; then
    local i daemons_json='[]' images_json='[]'
    for i in "${!names[@]}"; do
      daemons_json=$(jq -c --arg n "${names[$i]}" --arg p "${pids[$i]}" --arg s "${states[$i]}" \
        '. + [{name: $n, pid: ($p | if . == "" then null else tonumber end), state: $s}]' <<<"$daemons_json")
    done
    for i in "${!img_names[@]}"; do
      images_json=$(jq -c --arg n "${img_names[$i]}" --arg s "${img_states[$i]}" '. + [{ref: $n, state: $s}]' <<<"$images_json")
    done
    jq -n --argjson up "$up" --arg netns "$netns" --arg nsfile "$NETNS_FILE" --arg docker_host "${master[docker_host]}" \
      --arg cri "unix://${master[cri_sock]}" --arg kubelet "$kubelet" --arg kubectl "$kubectl" --arg etcd "$etcd" \
      --arg cri_dockerd "$cri" --arg dockerd "$dockerd" --arg want "$K8S_VERSION" \
      --argjson daemons "$daemons_json" --argjson images "$images_json" --argjson nodes "$nodes_json" --arg nsname "$NETNS" \
      '{up: ($up == 1), netns: {name: $nsname, file: $nsfile, state: $netns}, nodes: $nodes,
        dockerHost: $docker_host, criEndpoint: $cri, kubernetesVersion: $want,
        versions: {kubelet: $kubelet, kubectl: $kubectl, etcd: $etcd, "cri-dockerd": $cri_dockerd, docker: $dockerd},
        daemons: $daemons, images: $images}'
  else
    echo "machine:  $([[ $up -eq 1 ]] && echo up || echo down)   (netns $NETNS: $netns${WORKER:+; $WORKER: netns $WORKER_NETNS: $worker_netns})"
    echo "versions:"
    printf '  %-12s %s\n' kubelet "$kubelet" kubectl "${kubectl//$'\n'/ }" etcd "$etcd" cri-dockerd "$cri" docker "$dockerd"
    echo "daemons:"
    local i
    for i in "${!names[@]}"; do printf '  %-24s %-8s %s\n' "${names[$i]}" "${states[$i]}" "${pids[$i]:+pid ${pids[$i]}}"; done
    echo "images:"
    for i in "${!img_names[@]}"; do printf '  %-50s %s\n' "${img_names[$i]}" "${img_states[$i]}"; done
  fi
  [[ $up -eq 1 ]] || return 3
}

# ---------------------------------------------------------------------------------------------
# stop_pid NAME PID [GROUP] — SIGTERM (the process group when GROUP=1), wait, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 group=${3:-0}
  alive "$pid" || return 0
  local target=$pid
  if [[ $group -eq 1 ]] && [[ $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]]; then target=-$pid; fi
  say "stopping $name (pid $pid)"
  kill -TERM -- "$target" 2>/dev/null || true
  local i
  for ((i = 0; i < 150; i++)); do alive "$pid" || return 0; sleep 0.1; done
  say "  $name did not stop in 15s: SIGKILL"
  kill -KILL -- "$target" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
}

# runtime_proc PID — dockerd's containerd, a shim, or a container's process (hostNetwork pods
# share the namespace): docker stops those itself.
runtime_proc() {
  case $(ps -o comm= -p "$1" 2>/dev/null) in containerd|containerd-shim*|docker-proxy) return 0 ;; esac
  grep -qE '/(kubepods|book-machine|book-worker)(/|$)' "/proc/$1/cgroup" 2>/dev/null
}

# stop_node NODE — the node's processes: the runner's daemons, then anything else in its
# namespace, its containers, cri-dockerd and dockerd, and what is left (containerd, shims).
stop_node() {
  local -A c; node_conf "$1" c
  local f pid
  # 1. the runner's daemons (the kubelet first: it would restart the static pods)
  for f in "${c[daemons_dir]}"/*.pid; do
    [[ -e $f ]] || continue
    pid=$(pid_of "$f" || true)
    if alive "$pid" && { [[ ! -e ${c[netns_file]} ]] || in_our_ns "$1" "$pid"; }; then
      stop_pid "$(basename "$f" .pid)" "$pid" 1
    fi
    rm -f "$f"
  done
  # 2. any other process left in the namespace but our two daemons (a kubelet started by hand)
  if [[ -e ${c[netns_file]} ]]; then
    local dpid cpid p
    dpid=$(pid_of "${c[docker_pid]}" || true); cpid=$(pid_of "${c[cri_pid]}" || true)
    for p in $(ip netns pids "${c[netns]}" 2>/dev/null); do
      [[ $p == "$dpid" || $p == "$cpid" || $p == "$$" ]] && continue
      runtime_proc "$p" && continue
      stop_pid "$(ps -o comm= -p "$p" 2>/dev/null || echo process)" "$p" 0
    done
  fi
  # 3. containers
  pid=$(pid_of "${c[docker_pid]}" || true)
  if alive "$pid" && node_docker "$1" version >/dev/null 2>&1; then
    local ids; ids=$(node_docker "$1" ps -aq)
    if [[ -n $ids ]]; then
      say "removing $(wc -w <<<"$ids") containers (${c[name]})"
      # shellcheck disable=SC2086
      node_docker "$1" rm -f -v $ids >/dev/null || true
    fi
  fi
  # 4. cri-dockerd, dockerd
  stop_pid "cri-dockerd (${c[name]})" "$(pid_of "${c[cri_pid]}" || true)"
  stop_pid "dockerd (${c[name]})" "$(pid_of "${c[docker_pid]}" || true)"
  # 5. anything still in the namespace (containerd, shims)
  if [[ -e ${c[netns_file]} ]]; then
    for p in $(ip netns pids "${c[netns]}" 2>/dev/null); do
      [[ $p == "$$" ]] || stop_pid "$(ps -o comm= -p "$p" 2>/dev/null || echo process)" "$p" 0
    done
  fi
}

# delete_netns NODE — the node's network namespace, and its file
delete_netns() {
  local -A c; node_conf "$1" c
  [[ -e ${c[netns_file]} ]] || return 0
  say "netns: deleting ${c[netns]}"
  ip netns delete "${c[netns]}" 2>/dev/null || true
  if [[ -e ${c[netns_file]} ]]; then umount "${c[netns_file]}" 2>/dev/null || umount -l "${c[netns_file]}" 2>/dev/null || true; rm -f "${c[netns_file]}"; fi
}

# remove_cgroups NAME... — the cgroup folders NAME (empty by now) in every hierarchy, deepest first
remove_cgroups() {
  local name d
  for name; do
    for d in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
      [[ -d $d ]] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
}

# down_worker — the worker's processes, its mount namespace (with every mount in it), its network
# namespace (its end of the link goes with it), its cgroups and files. Before the master's: the
# worker's mount namespace holds mount points on paths the master's teardown removes.
down_worker() {
  [[ -n $WORKER ]] || return 0
  stop_node worker
  if [[ -n $(findmnt -n -o TARGET "$WORKER_MNT" 2>/dev/null) ]]; then
    say "mount namespace: deleting $WORKER_MNT"
    umount "$WORKER_MNT" 2>/dev/null || umount -l "$WORKER_MNT" 2>/dev/null || say "  cannot unmount $WORKER_MNT"
  fi
  rm -f "$WORKER_MNT" "$WORKER_OWNER"
  if mountpoint -q "$NODES_NS_DIR"; then umount "$NODES_NS_DIR" 2>/dev/null || umount -l "$NODES_NS_DIR" 2>/dev/null || true; fi
  rmdir "$NODES_NS_DIR" 2>/dev/null || true
  delete_netns worker
  remove_cgroups book-worker
  rm -rf "$WORKER_RUN" "$WORKER_DATA/root" "$WORKER_DATA/cri-dockerd"
}

cmd_down() {
  require_root_linux
  local t0; t0=$(date +%s%N)
  local -A master; node_conf master master
  local p
  down_worker
  stop_node master
  # 6. mounts under what we remove (kubelet volumes, docker's overlays and netns files)
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "  cannot unmount $m"
  done < <(findmnt -rn -o TARGET | grep -E '^(/var/lib/kubelet|/var/lib/book-machine|/run/book-machine|/var/lib/etcd)(/|$)' | sort -r)
  # 7. the namespace
  delete_netns master
  # 8. cgroups the kubelet and dockerd created
  remove_cgroups kubepods book-machine
  # 9. kernel settings, files
  if [[ -f $STATE_DIR/sysctl ]]; then
    local kv
    while IFS= read -r kv; do
      [[ $kv == *=?* ]] || continue
      [[ $(sysctl -n "${kv%%=*}" 2>/dev/null) == "${kv#*=}" ]] || sysctl -q -w "$kv" >/dev/null 2>&1 || true
    done <"$STATE_DIR/sysctl"
  fi
  rm -f "${master[cri_sock]}"
  local p
  for p in "${RUNTIME_PATHS[@]}"; do
    if [[ -e $p ]] && ! grep -qx "$p" "$STATE_DIR/preexisting" 2>/dev/null; then
      if [[ $p == /var/run/netns ]]; then
        # `ip netns add` made it a mount point of its own; only when no other namespace is left
        if [[ -z $(ls -A "$p" 2>/dev/null) ]]; then
          local i; for i in 1 2 3; do umount "$p" 2>/dev/null || break; done   # it may be stacked
          rmdir "$p" 2>/dev/null || true
        fi
      elif [[ $p == /run/docker ]]; then
        find "$p" -depth -type d -empty -delete 2>/dev/null || true   # only when nothing else is in it
      else
        rm -rf "$p"
      fi
    fi
  done
  rm -rf "${BOOK_PATHS[@]}" "$RUN_DIR" "${master[cri_root]}" "$STATE_DIR"
  if [[ ${BOOK_MACHINE_KEEP_DATA:-0} == 1 ]]; then
    say "keeping ${master[docker_data]} (BOOK_MACHINE_KEEP_DATA=1)"
  else
    rm -rf /var/lib/book-machine
  fi
  say "down in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

# One up/down at a time (the runner, a test and a shell may race): lock this script's own file,
# which leaves nothing behind.
lock() { exec 8<"$here/local-machine.sh"; flock 8; }

# refuse_other_machine up|down — exit 3 when the local machine that is up belongs to another netns.
refuse_other_machine() {
  local other; other=$(cat "$OWNER_FILE" 2>/dev/null || true)
  [[ -n $other && $other != "$NETNS" && -e /var/run/netns/$other ]] || return 0
  say "ERROR: cannot bring the local machine $1 in netns $NETNS: the local machine of netns $other is up on this host"
  say "  what to do: one local machine per host (they would share /etc/kubernetes and /var/lib/book-machine): bring that one down with its book (book machine down), or give this book's target netns: $other"
  exit 3
}

claim_host() {
  mkdir -p "$STATE_DIR"
  printf '%s\n' "$NETNS" >"$OWNER_FILE.tmp" && mv -f "$OWNER_FILE.tmp" "$OWNER_FILE"
}

case ${1:-} in
  up) lock; refuse_other_machine up; cmd_up; claim_host ;;
  status) shift; cmd_status "$@" ;;
  down) lock; refuse_other_machine down; cmd_down ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) echo "usage: $0 up|status [--json]|down" >&2; exit 2 ;;
esac
