#!/usr/bin/env bash
# reader-docker.sh start|stop|env NAME — a stand-in for a reader's Docker, for the docker target's
# tests and benchmarks: a dockerd of its own inside a sealed network namespace (loopback only, no
# route off the box), with its own socket, data root and cgroup parent. Any Docker of this host is
# left alone. Its files live under /var/tmp/NAME and /run/NAME; stop removes them all.
#
#   scripts/reader-docker.sh start NAME   print DOCKER_HOST=unix:///run/NAME/docker.sock when it answers
#   scripts/reader-docker.sh stop NAME    stop it, remove its namespace, data and files
#
# Needs root on Linux and Docker >= 23 at /usr/sbin/dockerd (vagrant/provision.sh installs it).
set -euo pipefail

action=${1:-}
name=${2:-book-reader-docker}
[[ $name =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || { echo "reader-docker.sh: NAME must be lowercase letters, digits and -" >&2; exit 2; }
run=/run/$name
data=/var/tmp/$name
netns=/var/run/netns/$name
sock=$run/docker.sock

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

start() {
  [[ $(id -u) -eq 0 ]] || { echo "reader-docker.sh: needs root" >&2; exit 3; }
  [[ -x /usr/sbin/dockerd ]] || { echo "reader-docker.sh: /usr/sbin/dockerd is missing (vagrant/provision.sh installs Docker)" >&2; exit 3; }
  local pid
  pid=$(cat "$run/dockerd.pid" 2>/dev/null || true)
  if alive "$pid" && DOCKER_HOST=unix://$sock docker version >/dev/null 2>&1; then echo "DOCKER_HOST=unix://$sock"; return; fi
  [[ -e $netns ]] || ip netns add "$name"
  ip -n "$name" link set lo up
  mkdir -p "$run" "$data/docker"
  # Without CAP_SYS_RESOURCE (some sandboxes) no container may lower its oom_score_adj.
  local eff; eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
  if (( (16#$eff >> 24) & 1 )); then
    echo '{}' >"$run/daemon.json"
  else
    install -m 0755 "$(dirname "$0")/../vagrant/runc-oom-clamp.sh" "$run/runc"
    printf '{"runtimes": {"book-runc": {"path": "%s"}}, "default-runtime": "book-runc"}\n' "$run/runc" >"$run/daemon.json"
  fi
  nsenter --net="$netns" setsid /usr/sbin/dockerd --host "unix://$sock" --config-file "$run/daemon.json" \
    --data-root "$data/docker" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$name" --bridge none \
    >>"$data/dockerd.log" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 300; i++)); do
    if DOCKER_HOST=unix://$sock docker version >/dev/null 2>&1; then echo "DOCKER_HOST=unix://$sock"; return; fi
    sleep 0.1
  done
  tail -n 20 "$data/dockerd.log" >&2
  echo "reader-docker.sh: dockerd did not answer on $sock" >&2
  exit 3
}

stop() {
  local pid i
  pid=$(cat "$run/dockerd.pid" 2>/dev/null || true)
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  # What the daemon left in its namespace (containerd, shims).
  if [[ -e $netns ]]; then
    for pid in $(ip netns pids "$name" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$name" 2>/dev/null || true
  fi
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | grep -E "^($data|$run)(/|$)" | sort -r)
  rm -rf "$run" "$data"
  local d
  for d in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
    if [[ -d $d ]]; then find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
  done
}

case $action in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [NAME]" >&2; exit 2 ;;
esac
