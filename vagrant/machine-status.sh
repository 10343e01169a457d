#!/usr/bin/env bash
# machine-status.sh — `book machine status` on an ssh host or the Vagrant VM (the local target has
# local-machine.sh status): the host, the versions installed by provision.sh, the book's daemons
# (recorded under the runtime folder by the runner), Docker and the systemd services.
#
#   BOOK_RUNTIME_DIR=/run/book-machine BOOK_DOCKER_SOCKET=/var/run/docker.sock machine-status.sh
#
# Exit codes: 0 the machine is up (Docker answers), 3 it is not.
set -euo pipefail

# Set by `book machine` from the target in book.yaml; no default, so no other machine's folder is ever read or deleted.
runtime=${BOOK_RUNTIME_DIR:?BOOK_RUNTIME_DIR must name the runtime folder (book machine sets it)}
docker_sock=${BOOK_DOCKER_SOCKET:?BOOK_DOCKER_SOCKET must name the Docker socket (book machine sets it)}

# first_line CMD ARGS... — a tool's version line, or "not installed" (never fails).
first_line() {
  local out
  if out=$("$@" 2>/dev/null); then printf '%s' "${out%%$'\n'*}"; else printf 'not installed'; fi
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

up=0
dockerd=$(first_line docker -H "unix://$docker_sock" version -f 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}')
[[ $dockerd == "not installed" ]] && dockerd="not answering on $docker_sock" || up=1

echo "machine:  $([[ $up -eq 1 ]] && echo up || echo down)   ($(hostname), $(uname -sr))"
echo "versions:"
printf '  %-12s %s\n' kubelet "$(first_line kubelet --version)" kubectl "$(first_line kubectl version --client)" \
  etcd "$(first_line etcd --version)" cri-dockerd "$(first_line cri-dockerd --version)" docker "$dockerd"
echo "daemons (started by the book, $runtime/daemons):"
shopt -s nullglob
records=("$runtime"/daemons/*.pid)
[[ ${#records[@]} -gt 0 ]] || echo "  none"
for file in "${records[@]}"; do
  name=$(basename "$file" .pid)
  pid=$(cat "$file" 2>/dev/null || true)
  if alive "$pid"; then printf '  %-24s running  pid %s\n' "$name" "$pid"; else printf '  %-24s stopped\n' "$name"; fi
done
if command -v systemctl >/dev/null; then
  echo "services:"
  for unit in docker cri-docker; do
    state=$(systemctl is-active "$unit" 2>/dev/null || true)
    printf '  %-24s %s\n' "$unit" "${state:-unknown}"
  done
fi
[[ $up -eq 1 ]] || exit 3
