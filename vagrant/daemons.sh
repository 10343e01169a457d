# shellcheck shell=bash disable=SC2154
# daemons.sh — a node's own dockerd and cri-dockerd, started and found; sourced by local-machine.sh
# (nodes in network namespaces on this host: master, worker) and node-machine.sh (a node that is a
# container on the reader's Docker: its hostname). Every function that acts on a node takes it as its
# first argument and looks up what it needs with two functions the caller defines:
#   node_conf NODE ARRAY   fills the associative array ARRAY with the node's settings: name, netns (a
#                          name for messages), run (its runtime folder), log_dir, daemons_dir,
#                          docker_host, docker_sock, docker_pid, docker_data, docker_exec,
#                          cgroup_parent (empty: Docker's default), cri_sock, cri_pid, cri_root
#   node_enter NODE ARRAY  fills the array ARRAY with the argv prefix that enters the node (empty
#                          inside it)
# The caller also sets PAUSE_IMAGE and BOOK_BIN_DIR and defines say and unfit; `here` is the vagrant
# folder.
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

# node_docker NODE ARGS... — the docker CLI, talking to the node's own dockerd
node_docker() {
  local -A conf; node_conf "$1" conf
  DOCKER_HOST=${conf[docker_host]} docker "${@:2}"
}

start_dockerd() { # NODE
  local -A c; node_conf "$1" c
  local -a enter; node_enter "$1" enter
  local pid; pid=$(pid_of "${c[docker_pid]}" || true)
  if alive "$pid" && node_docker "$1" version >/dev/null 2>&1; then say "dockerd (${c[name]}): running (pid $pid)"; return 0; fi
  rm -f "${c[docker_pid]}" "${c[docker_sock]}"
  mkdir -p "${c[docker_data]}" "${c[docker_exec]}" "${c[log_dir]}"
  # Our own configuration file, so the host's /etc/docker/daemon.json does not apply.
  if has_cap_sys_resource; then
    echo '{}' >"${c[run]}/daemon.json"
  else
    # Without CAP_SYS_RESOURCE no process may lower its oom_score_adj, and every pod sandbox
    # asks for -998: run containers through a runc that clamps it to 0 (runc-oom-clamp.sh).
    say "dockerd: no CAP_SYS_RESOURCE here: containers' negative oom_score_adj is raised to 0"
    install -m 0755 "$here/runc-oom-clamp.sh" "${c[run]}/runc"
    printf '{"runtimes": {"book-runc": {"path": "%s"}}, "default-runtime": "book-runc"}\n' "${c[run]}/runc" >"${c[run]}/daemon.json"
  fi
  say "dockerd (${c[name]}): starting in ${c[netns]} (log ${c[log_dir]}/dockerd.log)"
  # A node of its own cgroup namespace (a container) keeps Docker's default parent.
  local parent=()
  [[ -z ${c[cgroup_parent]} ]] || parent=(--cgroup-parent "${c[cgroup_parent]}")
  # DOCKER_HOST in its environment too, as a shell on the node has it.
  DOCKER_HOST=${c[docker_host]} "${enter[@]}" setsid /usr/sbin/dockerd \
    --host "${c[docker_host]}" \
    --config-file "${c[run]}/daemon.json" \
    --data-root "${c[docker_data]}" \
    --exec-root "${c[docker_exec]}" \
    --pidfile "${c[docker_pid]}" \
    --exec-opt native.cgroupdriver=cgroupfs \
    "${parent[@]}" \
    >>"${c[log_dir]}/dockerd.log" 2>&1 </dev/null 8<&- &
  local spid=$!
  if ! wait_for 60 "dockerd to answer on ${c[docker_sock]}" "$spid" node_docker "$1" version; then
    tail -n 15 "${c[log_dir]}/dockerd.log" >&2
    unfit "dockerd did not start (log: ${c[log_dir]}/dockerd.log)" \
      "read the log above; run '$0 down' and '$0 up' again; check that cgroups are mounted (/sys/fs/cgroup) and that /usr/sbin/dockerd is Docker >= 23"
  fi
  say "dockerd (${c[name]}): ready, $(node_docker "$1" version -f 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}')"
}

# cri_dockerd_pid NODE — the cri-dockerd serving the node's CRI socket: the one `up` started, or
# the book's own daemon (the pod-network chapter restarts it with --network-plugin=cni, as a book
# daemon).
cri_dockerd_pid() {
  local -A c; node_conf "$1" c
  local pid
  for pid in "$(pid_of "${c[cri_pid]}" || true)" "$(pid_of "${c[daemons_dir]}/cri-dockerd.pid" || true)"; do
    if alive "$pid"; then echo "$pid"; return 0; fi
  done
  return 1
}

start_cri_dockerd() { # NODE
  local -A c; node_conf "$1" c
  local -a enter; node_enter "$1" enter
  local pid; pid=$(cri_dockerd_pid "$1" || true)
  if [[ -n $pid && -S ${c[cri_sock]} ]]; then say "cri-dockerd (${c[name]}): running (pid $pid)"; return 0; fi
  rm -f "${c[cri_sock]}"
  mkdir -p "${c[cri_root]}"
  say "cri-dockerd (${c[name]}): starting in ${c[netns]} (log ${c[log_dir]}/cri-dockerd.log)"
  # --network-plugin= (empty): no CNI; pods get Docker's bridge (docker0) as in the seed, and the
  # runtime reports its network ready (0.4's default is "cni", which never gets ready here).
  # The pid file is written by the process that then becomes cri-dockerd (exec, no fork).
  # shellcheck disable=SC2016
  DOCKER_HOST=${c[docker_host]} setsid bash -c 'echo $$ >"$0"; exec "$@"' "${c[cri_pid]}" "${enter[@]}" \
    "$BOOK_BIN_DIR/cri-dockerd" \
    --container-runtime-endpoint "unix://${c[cri_sock]}" \
    --docker-endpoint "${c[docker_host]}" \
    --pod-infra-container-image "$PAUSE_IMAGE" \
    --network-plugin= \
    --cri-dockerd-root-directory "${c[cri_root]}" \
    >>"${c[log_dir]}/cri-dockerd.log" 2>&1 </dev/null 8<&- &
  local spid i
  for ((i = 0; i < 50; i++)); do [[ -s ${c[cri_pid]} ]] && break; sleep 0.1; done
  spid=$(pid_of "${c[cri_pid]}" || true)
  if ! wait_for 30 "cri-dockerd's socket ${c[cri_sock]}" "$spid" test -S "${c[cri_sock]}"; then
    tail -n 15 "${c[log_dir]}/cri-dockerd.log" >&2
    unfit "cri-dockerd did not start (log: ${c[log_dir]}/cri-dockerd.log)" "read the log above; run '$0 down' and '$0 up' again"
  fi
  say "cri-dockerd (${c[name]}): ready on unix://${c[cri_sock]}"
}
