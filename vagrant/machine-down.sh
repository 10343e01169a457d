#!/usr/bin/env bash
# machine-down.sh — `book machine down` on an ssh host or the Vagrant VM: undoes what the book did
# there, so `book run` starts over from chapter 0. It stops the daemons the book started (recorded
# under the runtime folder), removes the pods' containers, and deletes the cluster's files (the
# static manifests, certificates and kubeconfigs, etcd's data, the kubelet's folder). What
# provision.sh installed (binaries, images, Docker's and cri-dockerd's services) stays: the host
# is not ours to wipe, and `book machine up` on it is then quick.
#
#   BOOK_RUNTIME_DIR=/run/book-machine BOOK_DOCKER_SOCKET=/var/run/docker.sock machine-down.sh
#
# Exit codes: 0 done, 1 something could not be undone (said on stderr).
set -euo pipefail

# Set by `book machine` from the target in book.yaml; no default, so no other machine's folder is ever read or deleted.
runtime=${BOOK_RUNTIME_DIR:?BOOK_RUNTIME_DIR must name the runtime folder (book machine sets it)}
docker_sock=${BOOK_DOCKER_SOCKET:?BOOK_DOCKER_SOCKET must name the Docker socket (book machine sets it)}
# The cluster's files, as the book's chapters write them.
CLUSTER_FILES=(/etc/kubernetes /var/lib/etcd /var/lib/kubelet)

say() { printf '[machine-down] %s\n' "$*"; }
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
failed=0

# stop_group NAME PID — the daemon's process group (the runner starts each with setsid): TERM, then KILL.
stop_group() {
  local name=$1 pid=$2 i
  alive "$pid" || return 0
  say "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

shopt -s nullglob
for file in "$runtime"/daemons/*.pid; do
  stop_group "$(basename "$file" .pid)" "$(cat "$file" 2>/dev/null || true)"
done

if docker -H "unix://$docker_sock" version >/dev/null 2>&1; then
  containers=$(docker -H "unix://$docker_sock" ps -aq --filter name=k8s_)
  if [[ -n $containers ]]; then
    say "removing $(wc -w <<<"$containers") pod container(s)"
    # shellcheck disable=SC2086 # one id per word
    docker -H "unix://$docker_sock" rm -f $containers >/dev/null || failed=1
  fi
else
  say "Docker does not answer on $docker_sock: no containers to remove"
fi

# The kubelet mounts pods' volumes under its folder: unmount them before deleting it.
mounts=$(findmnt -rn -o TARGET 2>/dev/null || true)
while read -r mount; do
  [[ $mount == /var/lib/kubelet/* ]] || continue
  # Hidden under a mount over the folder itself (then it is not this machine's to remove).
  [[ -e $mount ]] || continue
  umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || { say "cannot unmount $mount" >&2; failed=1; }
done <<<"$mounts"
for path in "${CLUSTER_FILES[@]}" "$runtime"; do
  [[ -e $path ]] || continue
  if mountpoint -q "$path"; then
    # A folder that is a mount of its own stays; what the book put in it goes.
    say "emptying $path (a mount point)"
    find "$path" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} + || { say "cannot empty $path" >&2; failed=1; }
  else
    say "deleting $path"
    rm -rf --one-file-system "$path" || { say "cannot delete $path" >&2; failed=1; }
  fi
done
exit "$failed"
