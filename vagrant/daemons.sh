# shellcheck shell=bash disable=SC2154
# daemons.sh — the node's own dockerd and cri-dockerd, started and found; sourced by
# local-machine.sh (a node in network namespaces on this host) and node-machine.sh (a node that is
# a container on the reader's Docker). The caller sets, for the node at hand: NODE, NODE_NETNS (a
# name for messages), NODE_ENTER (argv prefix that enters the node; empty inside it), NODE_RUN,
# LOG_DIR, DAEMONS_DIR, DOCKER_HOST, DOCKER_SOCK, DOCKER_PID, DOCKER_DATA, DOCKER_EXEC,
# CGROUP_PARENT (empty: Docker's default), CRI_SOCK, CRI_PID, CRI_ROOT, PAUSE_IMAGE, BOOK_BIN_DIR,
# and the functions say and unfit; `here` is the vagrant folder.
pid_of() { local p; p=$(head -n1 "$1" 2>/dev/null | tr -dc 0-9); [[ -n $p ]] && echo "$p"; }
# alive PID — the process exists and is not a zombie (a stopped daemon whose parent, e.g. the
# runner, has not reaped it yet counts as stopped)
alive() {
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

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
  if alive "$pid" && docker version >/dev/null 2>&1; then say "dockerd ($NODE): running (pid $pid)"; return 0; fi
  rm -f "$DOCKER_PID" "$DOCKER_SOCK"
  mkdir -p "$DOCKER_DATA" "$DOCKER_EXEC" "$LOG_DIR"
  # Our own configuration file, so the host's /etc/docker/daemon.json does not apply.
  if has_cap_sys_resource; then
    echo '{}' >"$NODE_RUN/daemon.json"
  else
    # Without CAP_SYS_RESOURCE no process may lower its oom_score_adj, and every pod sandbox
    # asks for -998: run containers through a runc that clamps it to 0 (runc-oom-clamp.sh).
    say "dockerd: no CAP_SYS_RESOURCE here: containers' negative oom_score_adj is raised to 0"
    install -m 0755 "$here/runc-oom-clamp.sh" "$NODE_RUN/runc"
    printf '{"runtimes": {"book-runc": {"path": "%s"}}, "default-runtime": "book-runc"}\n' "$NODE_RUN/runc" >"$NODE_RUN/daemon.json"
  fi
  say "dockerd ($NODE): starting in $NODE_NETNS (log $LOG_DIR/dockerd.log)"
  # A node of its own cgroup namespace (a container) keeps Docker's default parent.
  local parent=()
  [[ -z $CGROUP_PARENT ]] || parent=(--cgroup-parent "$CGROUP_PARENT")
  "${NODE_ENTER[@]}" setsid /usr/sbin/dockerd \
    --host "$DOCKER_HOST" \
    --config-file "$NODE_RUN/daemon.json" \
    --data-root "$DOCKER_DATA" \
    --exec-root "$DOCKER_EXEC" \
    --pidfile "$DOCKER_PID" \
    --exec-opt native.cgroupdriver=cgroupfs \
    "${parent[@]}" \
    >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null 8<&- &
  local spid=$!
  if ! wait_for 60 "dockerd to answer on $DOCKER_SOCK" "$spid" docker version; then
    tail -n 15 "$LOG_DIR/dockerd.log" >&2
    unfit "dockerd did not start (log: $LOG_DIR/dockerd.log)" \
      "read the log above; run '$0 down' and '$0 up' again; check that cgroups are mounted (/sys/fs/cgroup) and that /usr/sbin/dockerd is Docker >= 23"
  fi
  say "dockerd ($NODE): ready, $(docker version -f 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}')"
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
  if [[ -n $pid && -S $CRI_SOCK ]]; then say "cri-dockerd ($NODE): running (pid $pid)"; return 0; fi
  rm -f "$CRI_SOCK"
  mkdir -p "$CRI_ROOT"
  say "cri-dockerd ($NODE): starting in $NODE_NETNS (log $LOG_DIR/cri-dockerd.log)"
  # --network-plugin= (empty): no CNI; pods get Docker's bridge (docker0) as in the seed, and the
  # runtime reports its network ready (0.4's default is "cni", which never gets ready here).
  # The pid file is written by the process that then becomes cri-dockerd (exec, no fork).
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$CRI_PID" "${NODE_ENTER[@]}" \
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
  say "cri-dockerd ($NODE): ready on unix://$CRI_SOCK"
}

