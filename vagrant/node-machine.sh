#!/usr/bin/env bash
# node-machine.sh up|status|down — run INSIDE a node container of the docker target (the runner
# copies nothing: node-image.sh puts this script and what it sources into the image, under
# /usr/share/book-minikube/vagrant). `book machine up|status|down --target docker` runs it in each
# node through the Docker API (docs/docker-target.md).
#
#   up      start the node's own dockerd (data on /var, a volume: no overlay on overlay) and
#           cri-dockerd (unix:///var/run/cri-dockerd.sock, no network plugin), load the images
#           (a worker: not the control plane's), write machine.env; note the kernel settings the
#           kubelet changes (they are the host kernel's, not the container's). Warm: seconds.
#   status  the node's versions and daemons; --json for the runner. Exit 3 when it is not up.
#   down    stop the book's daemons (the kubelet first) and restore the kernel settings; the runner
#           then removes the container, its volume and the network.
#
# Exit codes: 0 ok, 2 bad arguments, 3 the node cannot be brought up (the message says why).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The images and binaries the recipe put into the node.
export BOOK_CACHE=${BOOK_CACHE:-/usr/share/book-minikube/cache}
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"
# shellcheck source=vagrant/images.sh
source "$here/images.sh"

# This node's settings: one node per container, so they are constants (node_conf hands them to
# daemons.sh).
NODE=$(hostname)
NODE_RUN=${BOOK_RUNTIME_DIR:-/run/book-machine}
LOG_DIR=$NODE_RUN/logs
DAEMONS_DIR=$NODE_RUN/daemons
DOCKER_SOCK=$NODE_RUN/docker.sock
export DOCKER_HOST=unix://$DOCKER_SOCK
DOCKER_PID=$NODE_RUN/dockerd.pid
DOCKER_DATA=/var/lib/docker
DOCKER_EXEC=$NODE_RUN/docker
# Its own cgroup namespace: Docker's default parent, and the kubelet's default root, are the node's.
CGROUP_PARENT=
CRI_SOCK=/var/run/cri-dockerd.sock
CRI_PID=$NODE_RUN/cri-dockerd.pid
CRI_ROOT=/var/lib/cri-dockerd
STATE_DIR=/var/lib/book-node
# Kernel settings the kubelet sets at start: global, so the host's own. Restored by down.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

say() { printf '[%s %(%H:%M:%S)T] %s\n' "$NODE" -1 "$*" >&2; }
unfit() {
  say "ERROR: the node cannot be brought up: $1"
  [[ -z ${2:-} ]] || say "  what to do: $2"
  exit 3
}

# node_conf NODE ARRAY, node_enter NODE ARRAY — the node's settings and how to enter it, as
# daemons.sh asks for them. NODE is always this container's node, $NODE; it is already inside.
node_conf() {
  [[ $1 == "$NODE" ]] || { echo "$0: internal error: this container is node $NODE, not '$1'" >&2; exit 1; }
  local -n _node_conf=$2
  _node_conf=([name]=$NODE [netns]="the node container $NODE" [run]=$NODE_RUN [log_dir]=$LOG_DIR
    [daemons_dir]=$DAEMONS_DIR [docker_host]=$DOCKER_HOST [docker_sock]=$DOCKER_SOCK [docker_pid]=$DOCKER_PID
    [docker_data]=$DOCKER_DATA [docker_exec]=$DOCKER_EXEC [cgroup_parent]=$CGROUP_PARENT
    [cri_sock]=$CRI_SOCK [cri_pid]=$CRI_PID [cri_root]=$CRI_ROOT)
}
node_enter() {
  [[ $1 == "$NODE" ]] || { echo "$0: internal error: this container is node $NODE, not '$1'" >&2; exit 1; }
  local -n _node_enter=$2
  _node_enter=()
}

# shellcheck source=vagrant/daemons.sh
source "$here/daemons.sh"

write_machine_env() {
  cat >"$NODE_RUN/machine.env" <<ENV
BOOK_NODE=$NODE
DOCKER_HOST=$DOCKER_HOST
CONTAINER_RUNTIME_ENDPOINT=unix://$CRI_SOCK
BOOK_DAEMONS_DIR=$DAEMONS_DIR
BOOK_LOG_DIR=$LOG_DIR
ENV
}

load_images() {
  local skip=''
  [[ $NODE == k8s-master ]] || skip='^registry\.k8s\.io/(kube-apiserver|kube-controller-manager|kube-scheduler|etcd):'
  if [[ -d $IMAGES_CACHE ]]; then
    images_load "$skip" || unfit "cannot load the images into $NODE's Docker" "run book machine down, then up"
    return
  fi
  # An online recipe carries no image tarballs: the node pulls what the book's manifests name.
  local ref
  while read -r ref; do
    if [[ -n $skip && $ref =~ $skip ]]; then continue; fi
    docker image inspect "$ref" >/dev/null 2>&1 || docker pull -q "$ref" >/dev/null || unfit "cannot pull $ref" "check the node's network, or build the node image offline (BOOK_SOURCE=offline)"
  done < <(images_expected)
}

cmd_up() {
  local t0; t0=$(date +%s%N)
  mkdir -p "$LOG_DIR" "$DAEMONS_DIR" "$STATE_DIR"
  if [[ ! -f $STATE_DIR/sysctl ]]; then
    local p
    for p in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$p" "$(sysctl -n "$p" 2>/dev/null)"; done >"$STATE_DIR/sysctl"
  fi
  start_dockerd "$NODE"
  local t1; t1=$(date +%s%N)
  load_images
  say "images: loaded in $(( ($(date +%s%N) - t1) / 1000000 )) ms"
  # Sealed, as the local machine is: Docker gave the node a default route through the reader's
  # host; without it nothing of the cluster can leave (the book's pod and Service chapters count
  # on it), and eth0 leads only to the other nodes.
  if [[ -n $(ip route show default) ]]; then
    ip route del default
    say "network: default route removed (eth0 leads only to the other nodes)"
  fi
  start_cri_dockerd "$NODE"
  write_machine_env
  say "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

cmd_status() {
  local json=0; [[ ${1:-} == --json ]] && json=1
  local -a names=() states=() pids=()
  add() { names+=("$1"); pids+=("${2:-}"); if alive "${2:-}"; then states+=(running); else states+=(stopped); fi; }
  add dockerd "$(pid_of "$DOCKER_PID" || true)"
  add cri-dockerd "$(cri_dockerd_pid "$NODE" || true)"
  local f
  for f in "$DAEMONS_DIR"/*.pid; do
    [[ -e $f ]] || continue
    add "$(basename "$f" .pid)" "$(pid_of "$f" || true)"
  done
  local up=0
  [[ ${states[0]} == running && ${states[1]} == running ]] && up=1
  if [[ $json -eq 1 ]]; then
    local i daemons='[]'
    for i in "${!names[@]}"; do
      daemons=$(jq -c --arg n "${names[$i]}" --arg p "${pids[$i]}" --arg s "${states[$i]}" \
        '. + [{name: $n, pid: ($p | if . == "" then null else tonumber end), state: $s}]' <<<"$daemons")
    done
    jq -n --arg node "$NODE" --argjson up "$up" --argjson daemons "$daemons" \
      --arg kubelet "$("$BOOK_BIN_DIR/kubelet" --version 2>&1 || true)" --arg docker "$(/usr/sbin/dockerd --version 2>&1 || true)" \
      '{node: $node, up: ($up == 1), daemons: $daemons, versions: {kubelet: $kubelet, docker: $docker}}'
  else
    printf '%s: %s\n' "$NODE" "$([[ $up -eq 1 ]] && echo up || echo down)"
    local i
    for i in "${!names[@]}"; do printf '  %-24s %-8s %s\n' "${names[$i]}" "${states[$i]}" "${pids[$i]:+pid ${pids[$i]}}"; done
  fi
  [[ $up -eq 1 ]] || return 3
}

# stop_pid NAME PID — SIGTERM to its process group, then SIGKILL after 15 s.
stop_pid() {
  local name=$1 pid=$2 i
  alive "$pid" || return 0
  say "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

cmd_down() {
  local f
  # The kubelet first: it would start the static pods again.
  for f in "$DAEMONS_DIR/kubelet.pid" "$DAEMONS_DIR"/*.pid; do
    [[ -e $f ]] && stop_pid "$(basename "$f" .pid)" "$(pid_of "$f" || true)"
  done
  if [[ -f $STATE_DIR/sysctl ]]; then
    local kv
    while IFS= read -r kv; do
      [[ $kv == *=?* ]] || continue
      [[ $(sysctl -n "${kv%%=*}" 2>/dev/null) == "${kv#*=}" ]] || sysctl -q -w "$kv" >/dev/null 2>&1 || true
    done <"$STATE_DIR/sysctl"
  fi
}

case ${1:-} in
  up) cmd_up ;;
  status) shift; cmd_status "$@" ;;
  down) cmd_down ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) echo "usage: $0 up|status [--json]|down" >&2; exit 2 ;;
esac
