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
# Exit codes: 0 ok, 2 bad arguments, 3 the machine cannot be brought up (the message says why
# and what to do).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"
# shellcheck source=vagrant/images.sh
source "$here/images.sh"

NETNS=book-minikube
NETNS_FILE=/var/run/netns/$NETNS
# The node address inside the namespace (the seed's Vagrant VMs used 192.168.56.x).
NODE_IP=${BOOK_NODE_IP:-192.168.56.10}
RUN_DIR=/run/book-machine
LOG_DIR=$RUN_DIR/logs
DAEMONS_DIR=$RUN_DIR/daemons
DOCKER_SOCK=$RUN_DIR/docker.sock
DOCKER_DATA=/var/lib/book-machine/docker
DOCKER_EXEC=$RUN_DIR/docker
DOCKER_PID=$RUN_DIR/dockerd.pid
CRI_SOCK=/var/run/cri-dockerd.sock
CRI_ROOT=/var/lib/book-machine/cri-dockerd
CRI_PID=$RUN_DIR/cri-dockerd.pid
STATE_DIR=/var/lib/book-machine/state   # survives a crash of the host's /run; removed by down
# What the book writes on the machine, removed by down.
BOOK_PATHS=(/etc/kubernetes /var/lib/kubelet /var/lib/etcd)
# Created by the kubelet, cri-dockerd and dockerd; removed by down unless they existed before up.
# CNI's configuration and host-local's IP files (the pod-network chapter) count among them.
RUNTIME_PATHS=(/var/log/pods /var/log/containers /run/docker /var/run/netns /etc/cni /var/lib/cni)
# Kernel settings the kubelet sets at start (global, not per namespace); restored by down.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

export DOCKER_HOST=unix://$DOCKER_SOCK

say() { printf '[machine %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
unfit() { # WHAT WHAT-TO-DO
  say "ERROR: the local machine cannot be brought up: $1"
  [[ -z ${2:-} ]] || say "  what to do: $2"
  exit 3
}

in_ns() { nsenter --net="$NETNS_FILE" "$@"; }
pid_of() { local p; p=$(head -n1 "$1" 2>/dev/null | tr -dc 0-9); [[ -n $p ]] && echo "$p"; }
# alive PID — the process exists and is not a zombie (a stopped daemon whose parent, e.g. the
# runner, has not reaped it yet counts as stopped)
alive() {
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
netns_id() { stat -L -c %i "$NETNS_FILE" 2>/dev/null; }
# in_our_ns PID — the process lives in the book's network namespace
in_our_ns() {
  local id; id=$(netns_id) || return 1
  [[ $(readlink "/proc/$1/ns/net" 2>/dev/null) == "net:[$id]" ]]
}

require_root_linux() {
  [[ $(uname -s) == Linux ]] || unfit "the local target needs Linux (this is $(uname -s))" "use --target vagrant"
  [[ $(id -u) -eq 0 ]] || unfit "the local target needs root" "run as root (sudo), or use --target vagrant / --target ssh"
  if ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
    unfit "nsenter and ip are missing" "apt-get install util-linux iproute2"
  fi
}

# ---------------------------------------------------------------------------------------------
wait_for() { # SECONDS DESCRIPTION PID CMD... — poll CMD until it succeeds, PID dies, or time runs out
  local secs=$1 what=$2 pid=$3; shift 3
  local deadline=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
  until "$@" >/dev/null 2>&1; do
    alive "$pid" || return 1
    (( $(date +%s%N) / 1000000 < deadline )) || { say "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.1
  done
}

# has_cap_sys_resource — this shell may lower oom_score_adj (bit 24 of the effective set)
has_cap_sys_resource() {
  local eff; eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
  (( (16#$eff >> 24) & 1 ))
}

start_dockerd() {
  local pid; pid=$(pid_of "$DOCKER_PID" || true)
  if alive "$pid" && docker version >/dev/null 2>&1; then say "dockerd: running (pid $pid)"; return 0; fi
  rm -f "$DOCKER_PID" "$DOCKER_SOCK"
  mkdir -p "$DOCKER_DATA" "$DOCKER_EXEC"
  # Our own configuration file, so the host's /etc/docker/daemon.json does not apply.
  if has_cap_sys_resource; then
    echo '{}' >"$RUN_DIR/daemon.json"
  else
    # Without CAP_SYS_RESOURCE no process may lower its oom_score_adj, and every pod sandbox
    # asks for -998: run containers through a runc that clamps it to 0 (runc-oom-clamp.sh).
    say "dockerd: no CAP_SYS_RESOURCE here: containers' negative oom_score_adj is raised to 0"
    install -m 0755 "$here/runc-oom-clamp.sh" "$RUN_DIR/runc"
    printf '{"runtimes": {"book-runc": {"path": "%s"}}, "default-runtime": "book-runc"}\n' "$RUN_DIR/runc" >"$RUN_DIR/daemon.json"
  fi
  say "dockerd: starting in $NETNS (log $LOG_DIR/dockerd.log)"
  nsenter --net="$NETNS_FILE" setsid /usr/sbin/dockerd \
    --host "$DOCKER_HOST" \
    --config-file "$RUN_DIR/daemon.json" \
    --data-root "$DOCKER_DATA" \
    --exec-root "$DOCKER_EXEC" \
    --pidfile "$DOCKER_PID" \
    --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent /book-machine \
    >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null 8<&- &
  local spid=$!
  if ! wait_for 60 "dockerd to answer on $DOCKER_SOCK" "$spid" docker version; then
    tail -n 15 "$LOG_DIR/dockerd.log" >&2
    unfit "dockerd did not start (log: $LOG_DIR/dockerd.log)" \
      "read the log above; run '$0 down' and '$0 up' again; check that cgroups are mounted (/sys/fs/cgroup) and that /usr/sbin/dockerd is Docker >= 23"
  fi
  say "dockerd: ready, $(docker version -f 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}')"
}

# The cri-dockerd serving the CRI socket: the one `up` started, or the book's own daemon (the
# pod-network chapter restarts it with --network-plugin=cni, as a book daemon).
cri_dockerd_pid() {
  local pid
  for pid in "$(pid_of "$CRI_PID" || true)" "$(pid_of "$DAEMONS_DIR/cri-dockerd.pid" || true)"; do
    if alive "$pid"; then echo "$pid"; return 0; fi
  done
  return 1
}

start_cri_dockerd() {
  local pid; pid=$(cri_dockerd_pid || true)
  if [[ -n $pid && -S $CRI_SOCK ]]; then say "cri-dockerd: running (pid $pid)"; return 0; fi
  rm -f "$CRI_SOCK"
  mkdir -p "$CRI_ROOT"
  say "cri-dockerd: starting in $NETNS (log $LOG_DIR/cri-dockerd.log)"
  # --network-plugin= (empty): no CNI; pods get Docker's bridge (docker0) as in the seed, and the
  # runtime reports its network ready (0.4's default is "cni", which never gets ready here).
  # The pid file is written by the process that then becomes cri-dockerd (exec, no fork).
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$1"; shift; exec nsenter --net="$0" "$@"' "$NETNS_FILE" "$CRI_PID" \
    "$BOOK_BIN_DIR/cri-dockerd" \
    --container-runtime-endpoint "unix://$CRI_SOCK" \
    --docker-endpoint "$DOCKER_HOST" \
    --pod-infra-container-image "$PAUSE_IMAGE" \
    --network-plugin= \
    --cri-dockerd-root-directory "$CRI_ROOT" \
    >>"$LOG_DIR/cri-dockerd.log" 2>&1 </dev/null 8<&- &
  local spid i
  for ((i = 0; i < 50; i++)); do [[ -s $CRI_PID ]] && break; sleep 0.1; done
  spid=$(pid_of "$CRI_PID" || true)
  if ! wait_for 30 "cri-dockerd's socket $CRI_SOCK" "$spid" test -S "$CRI_SOCK"; then
    tail -n 15 "$LOG_DIR/cri-dockerd.log" >&2
    unfit "cri-dockerd did not start (log: $LOG_DIR/cri-dockerd.log)" "read the log above; run '$0 down' and '$0 up' again"
  fi
  say "cri-dockerd: ready on unix://$CRI_SOCK"
}

cmd_up() {
  require_root_linux
  local t0; t0=$(date +%s%N)
  # 1. provision (packages, binaries, image tarballs); warm: a few seconds
  "$here/provision.sh" --source "${BOOK_SOURCE:-offline}" --daemons none --keep-swap --no-images >&2 \
    || { local rc=$?; [[ $rc -eq 3 ]] && exit 3; unfit "provisioning failed (exit $rc)" "read the lines above; the offline build log is $BOOK_CACHE/logs/build-offline.log"; }

  # 2. remember what existed before, and the kernel settings the kubelet may change
  mkdir -p "$STATE_DIR"
  if [[ ! -f $STATE_DIR/preexisting ]]; then
    local p
    for p in "${RUNTIME_PATHS[@]}"; do [[ -e $p ]] && echo "$p"; done >"$STATE_DIR/preexisting"
    for p in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$p" "$(sysctl -n "$p" 2>/dev/null)"; done >"$STATE_DIR/sysctl"
  fi

  # 3. the sealed namespace: lo only; docker0 appears when dockerd starts
  if [[ ! -e $NETNS_FILE ]]; then
    say "netns: creating $NETNS"
    ip netns add "$NETNS" || unfit "cannot create network namespace $NETNS" "check 'ip netns add' works as root"
  fi
  ip -n "$NETNS" link set lo up
  # The node's own address, as a VM's network card would give it: a veth pair whose both ends
  # stay in the namespace (kernels without the dummy driver have veth: Docker needs it), so it
  # leads nowhere and there is still no route off the box. The kubelet registers the address
  # as the node's InternalIP.
  if ! ip -n "$NETNS" link show eth0 >/dev/null 2>&1; then
    ip -n "$NETNS" link add eth0 type veth peer name eth0-peer \
      || unfit "cannot create the machine's network card (veth) in $NETNS" "check 'ip link add type veth' works as root"
    ip -n "$NETNS" addr add "$NODE_IP/24" dev eth0
  fi
  ip -n "$NETNS" link set eth0-peer up
  ip -n "$NETNS" link set eth0 up
  local default_route; default_route=$(in_ns ip route show default)
  if [[ -n $default_route ]]; then
    unfit "namespace $NETNS has a default route (traffic could leave the box)" "run '$0 down', then '$0 up'"
  fi
  mkdir -p "$LOG_DIR" "$DAEMONS_DIR"

  # 4. daemons, images
  start_dockerd
  local t1; t1=$(date +%s%N)
  images_load || unfit "cannot load the images from $IMAGES_CACHE" "run $here/build-offline.sh images"
  say "images: loaded in $(( ($(date +%s%N) - t1) / 1000000 )) ms"
  start_cri_dockerd

  # 5. what the runner and `book machine shell` need
  cat >"$RUN_DIR/machine.env" <<ENV
BOOK_NETNS=$NETNS
BOOK_NETNS_FILE=$NETNS_FILE
DOCKER_HOST=$DOCKER_HOST
CONTAINER_RUNTIME_ENDPOINT=unix://$CRI_SOCK
BOOK_DAEMONS_DIR=$DAEMONS_DIR
BOOK_LOG_DIR=$LOG_DIR
ENV
  say "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms — enter it with: nsenter --net=$NETNS_FILE bash  (DOCKER_HOST=$DOCKER_HOST)"
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

  local -a names=() pids=() states=()
  add_daemon() { names+=("$1"); pids+=("${2:-}"); if alive "${2:-}"; then states+=(running); else states+=(stopped); fi; }
  add_daemon dockerd "$(pid_of "$DOCKER_PID" || true)"
  add_daemon cri-dockerd "$(cri_dockerd_pid || true)"
  local f
  for f in "$DAEMONS_DIR"/*.pid; do
    [[ -e $f ]] || continue
    add_daemon "$(basename "$f" .pid)" "$(pid_of "$f" || true)"
  done
  local netns=absent; [[ -e $NETNS_FILE ]] && netns=present
  local up=0
  [[ $netns == present && ${states[0]} == running && ${states[1]} == running ]] && up=1

  local -a img_names=() img_states=()
  local ref
  while read -r ref; do
    img_names+=("$ref")
    if [[ ${states[0]} == running ]] && docker image inspect "$ref" >/dev/null 2>&1; then img_states+=(present); else img_states+=(absent); fi
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
    jq -n --argjson up "$up" --arg netns "$netns" --arg nsfile "$NETNS_FILE" --arg docker_host "$DOCKER_HOST" \
      --arg cri "unix://$CRI_SOCK" --arg kubelet "$kubelet" --arg kubectl "$kubectl" --arg etcd "$etcd" \
      --arg cri_dockerd "$cri" --arg dockerd "$dockerd" --arg want "$K8S_VERSION" \
      --argjson daemons "$daemons_json" --argjson images "$images_json" \
      '{up: ($up == 1), netns: {name: "book-minikube", file: $nsfile, state: $netns},
        dockerHost: $docker_host, criEndpoint: $cri, kubernetesVersion: $want,
        versions: {kubelet: $kubelet, kubectl: $kubectl, etcd: $etcd, "cri-dockerd": $cri_dockerd, docker: $dockerd},
        daemons: $daemons, images: $images}'
  else
    echo "machine:  $([[ $up -eq 1 ]] && echo up || echo down)   (netns $NETNS: $netns)"
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
  grep -qE '/(kubepods|book-machine)(/|$)' "/proc/$1/cgroup" 2>/dev/null
}

cmd_down() {
  require_root_linux
  local t0; t0=$(date +%s%N)
  local f pid
  # 1. the runner's daemons (the kubelet first: it would restart the static pods)
  for f in "$DAEMONS_DIR"/*.pid; do
    [[ -e $f ]] || continue
    pid=$(pid_of "$f" || true)
    if alive "$pid" && { [[ ! -e $NETNS_FILE ]] || in_our_ns "$pid"; }; then
      stop_pid "$(basename "$f" .pid)" "$pid" 1
    fi
    rm -f "$f"
  done
  # 2. any other process left in the namespace but our two daemons (a kubelet started by hand)
  if [[ -e $NETNS_FILE ]]; then
    local dpid cpid p
    dpid=$(pid_of "$DOCKER_PID" || true); cpid=$(pid_of "$CRI_PID" || true)
    for p in $(ip netns pids "$NETNS" 2>/dev/null); do
      [[ $p == "$dpid" || $p == "$cpid" || $p == "$$" ]] && continue
      runtime_proc "$p" && continue
      stop_pid "$(ps -o comm= -p "$p" 2>/dev/null || echo process)" "$p" 0
    done
  fi
  # 3. containers
  pid=$(pid_of "$DOCKER_PID" || true)
  if alive "$pid" && docker version >/dev/null 2>&1; then
    local ids; ids=$(docker ps -aq)
    if [[ -n $ids ]]; then
      say "removing $(wc -w <<<"$ids") containers"
      # shellcheck disable=SC2086
      docker rm -f -v $ids >/dev/null || true
    fi
  fi
  # 4. cri-dockerd, dockerd
  stop_pid cri-dockerd "$(pid_of "$CRI_PID" || true)"
  stop_pid dockerd "$(pid_of "$DOCKER_PID" || true)" 
  # 5. anything still in the namespace (containerd, shims)
  if [[ -e $NETNS_FILE ]]; then
    for p in $(ip netns pids "$NETNS" 2>/dev/null); do
      [[ $p == "$$" ]] || stop_pid "$(ps -o comm= -p "$p" 2>/dev/null || echo process)" "$p" 0
    done
  fi
  # 6. mounts under what we remove (kubelet volumes, docker's overlays and netns files)
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "  cannot unmount $m"
  done < <(findmnt -rn -o TARGET | grep -E '^(/var/lib/kubelet|/var/lib/book-machine|/run/book-machine|/var/lib/etcd)(/|$)' | sort -r)
  # 7. the namespace
  if [[ -e $NETNS_FILE ]]; then
    say "netns: deleting $NETNS"
    ip netns delete "$NETNS" 2>/dev/null || true
    if [[ -e $NETNS_FILE ]]; then umount "$NETNS_FILE" 2>/dev/null || umount -l "$NETNS_FILE" 2>/dev/null || true; rm -f "$NETNS_FILE"; fi
  fi
  # 8. cgroups the kubelet and dockerd created (empty by now), deepest first
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/book-machine /sys/fs/cgroup/kubepods /sys/fs/cgroup/book-machine; do
    [[ -d $d ]] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  # 9. kernel settings, files
  if [[ -f $STATE_DIR/sysctl ]]; then
    local kv
    while IFS= read -r kv; do
      [[ $kv == *=?* ]] || continue
      [[ $(sysctl -n "${kv%%=*}" 2>/dev/null) == "${kv#*=}" ]] || sysctl -q -w "$kv" >/dev/null 2>&1 || true
    done <"$STATE_DIR/sysctl"
  fi
  rm -f "$CRI_SOCK"
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
  rm -rf "${BOOK_PATHS[@]}" "$RUN_DIR" "$CRI_ROOT" "$STATE_DIR"
  if [[ ${BOOK_MACHINE_KEEP_DATA:-0} == 1 ]]; then
    say "keeping $DOCKER_DATA (BOOK_MACHINE_KEEP_DATA=1)"
  else
    rm -rf /var/lib/book-machine
  fi
  say "down in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

# One up/down at a time (the runner, a test and a shell may race): lock this script's own file,
# which leaves nothing behind.
lock() { exec 8<"$here/local-machine.sh"; flock 8; }

case ${1:-} in
  up) lock; cmd_up ;;
  status) shift; cmd_status "$@" ;;
  down) lock; cmd_down ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) echo "usage: $0 up|status [--json]|down" >&2; exit 2 ;;
esac
