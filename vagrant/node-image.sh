#!/usr/bin/env bash
# node-image.sh — the docker target's node image (docs/docker-target.md), as a root file system
# tarball that `book machine up` hands to the reader's Docker (`docker import`, through its API).
# One recipe, cached per version and per recipe:
#
#   1. a Debian root file system from Debian's packages (mmdebstrap; Debian 13: Docker 26, python3
#      for the runner's agent, iptables, iproute2, the tools the book's shell blocks use);
#   2. the book's binaries in /usr/local/bin and /opt/cni/bin, from the same provisioning as every
#      other target (provision.sh --binaries-only: offline from the Go module proxy into
#      $BOOK_CACHE, or online from the releases);
#   3. the offline images' tarballs (online: none, the node pulls them when it comes up) and the
#      node's own scripts (node-machine.sh and what it sources) under /usr/share/book-minikube.
#
#   vagrant/node-image.sh            build (or find) the tarball; print its path on stdout
#   vagrant/node-image.sh --recipe   print the recipe's id (the image's tag) and exit
#
# Writes only under $BOOK_CACHE/node (and the binaries' own caches). Needs Linux, root and
# mmdebstrap (apt-get install mmdebstrap). Exit codes: 0 ok, 1 a step failed, 2 bad arguments,
# 3 this host cannot build it (the message says what to do).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"

# The node's Debian: 13 has a Docker recent enough for cri-dockerd (API >= 1.42).
NODE_SUITE=${NODE_SUITE:-trixie}
NODE_MIRROR=${NODE_MIRROR:-http://deb.debian.org/debian}
NODE_PACKAGES=(docker.io docker-cli containerd runc tini iptables iproute2 procps psmisc python3-minimal
  socat conntrack curl jq ca-certificates util-linux mount kmod ethtool ebtables bind9-dnsutils openssl less)
# The scripts the node runs, copied into it (their change makes a new recipe).
NODE_SCRIPTS=(versions.sh images.sh daemons.sh node-machine.sh runc-oom-clamp.sh)
NODE_CACHE=$BOOK_CACHE/node

say() { printf '[node-image %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
unfit() { say "CANNOT BUILD THE NODE IMAGE: $1"; [[ -z ${2:-} ]] || say "  what to do: $2"; exit 3; }

# sha256 of stdin, hex (macOS has shasum, not sha256sum).
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }

# The recipe's id: what goes into the image (packages, versions, scripts, this file), hashed.
recipe_id() {
  {
    printf '%s\n' "$NODE_SUITE" "${NODE_PACKAGES[@]}" "$K8S_VERSION" "$ETCD_VERSION" "$CRI_DOCKERD_VERSION" \
      "$CNI_PLUGINS_VERSION" "$COREDNS_VERSION" "$PAUSE_IMAGE_TAG" "${BOOK_SOURCE:-auto}"
    local f
    for f in node-image.sh "${NODE_SCRIPTS[@]}"; do cat "$here/$f"; done
  } | sha256 | cut -c1-12
}

case ${1:-} in
  --recipe) echo "$K8S_VERSION-$(recipe_id)"; exit 0 ;;
  '') ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) echo "node-image.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

out=$NODE_CACHE/node-$K8S_VERSION-$(recipe_id).tar
if [[ -s $out ]]; then echo "$out"; exit 0; fi

[[ $(uname -s) == Linux ]] || unfit "the node image is built on Linux (this is $(uname -s))" "build it in a Linux VM (colima ssh, OrbStack's shell), with BOOK_CACHE pointing at a folder you keep"
[[ $(id -u) -eq 0 ]] || unfit "building the node's root file system needs root" "run as root (sudo)"
command -v mmdebstrap >/dev/null || unfit "mmdebstrap is missing" "apt-get install mmdebstrap"

mkdir -p "$NODE_CACHE"
exec 9>"$NODE_CACHE/.lock"
flock 9
# Another build may have finished it while this one waited.
if [[ -s $out ]]; then echo "$out"; exit 0; fi

work=$(mktemp -d "$NODE_CACHE/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

# 1. Debian, cached by suite and package list (the slowest part that changes least).
pkg_id=$(printf '%s\n' "$NODE_SUITE" "${NODE_PACKAGES[@]}" | sha256 | cut -c1-12)
rootfs=$NODE_CACHE/rootfs-$NODE_SUITE-$pkg_id.tar
if [[ ! -s $rootfs ]]; then
  say "root file system: Debian $NODE_SUITE from $NODE_MIRROR (log $work/mmdebstrap.log)"
  pkg_list=$(IFS=,; echo "${NODE_PACKAGES[*]}")
  if ! mmdebstrap --variant=minbase --include="$pkg_list" \
    --aptopt='Apt::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$NODE_SUITE" "$work/rootfs.tar" "$NODE_MIRROR" >"$work/mmdebstrap.log" 2>&1; then
    tail -n 20 "$work/mmdebstrap.log" >&2
    die "mmdebstrap failed (Debian's packages unreachable? apt-get update, then try again)"
  fi
  mv -f "$work/rootfs.tar" "$rootfs"
fi

# 2. The binaries, where the node looks for them.
stage=$work/stage
mkdir -p "$stage/usr/local/bin" "$stage/opt/cni/bin" "$stage/usr/share/book-minikube/vagrant" "$stage/usr/local/sbin"
say "binaries: ${BOOK_SOURCE:-auto} (provision.sh --binaries-only)"
BOOK_BIN_DIR=$stage/usr/local/bin CNI_BIN_DIR=$stage/opt/cni/bin \
  "$here/provision.sh" --binaries-only --source "${BOOK_SOURCE:-auto}" >&2 || die "the binaries could not be provisioned (read the lines above)"

# 3. The images (offline: the cached tarballs of this version; online: pulled by the node) and scripts.
# shellcheck source=vagrant/images.sh
source "$here/images.sh"
if images_complete; then
  mkdir -p "$stage/usr/share/book-minikube/cache/images"
  for meta in "$IMAGES_CACHE"/*.meta; do
    first=$(awk '/^ref / { print substr($0, 5); exit }' "$meta")
    image_for_this_machine "$first" || continue
    cp "$meta" "${meta%.meta}.tar" "$stage/usr/share/book-minikube/cache/images/"
  done
fi
for f in "${NODE_SCRIPTS[@]}"; do install -m 0755 "$here/$f" "$stage/usr/share/book-minikube/vagrant/$f"; done
# The container's first process: tini reaps every orphan (the daemons the runner starts outlive
# the exec that started them); this script makes the mounts a node needs, then waits.
cat >"$stage/usr/local/sbin/book-node-init" <<'INIT'
#!/bin/bash
# The kubelet's volume mounts must propagate into the pods' containers.
mount --make-rshared / 2>/dev/null || true
exec sleep infinity
INIT
chmod 0755 "$stage/usr/local/sbin/book-node-init"
printf 'recipe=%s\nsource=%s\n' "$(recipe_id)" "${BOOK_SOURCE:-auto}" >"$stage/usr/share/book-minikube/recipe"

# 4. One tarball: Debian's, with what the stage adds appended. Docker refuses a path twice in one
# layer, so folders Debian has already (usr/local/bin) are not added again; a file in both is a
# mistake of this recipe.
tar -tf "$rootfs" | sed 's,/$,,' | LC_ALL=C sort >"$work/rootfs.list"
(cd "$stage" && find . -mindepth 1) | LC_ALL=C sort >"$work/stage.list"
LC_ALL=C comm -12 "$work/rootfs.list" "$work/stage.list" >"$work/both.list"
while read -r p; do
  [[ -d $stage/$p ]] || die "$p is in Debian's root file system and in the stage: rename it in node-image.sh"
done <"$work/both.list"
LC_ALL=C comm -23 "$work/stage.list" "$work/rootfs.list" >"$work/add.list"
cp "$rootfs" "$work/node.tar"
tar --owner=0 --group=0 --no-recursion -rf "$work/node.tar" -C "$stage" -T "$work/add.list"
mv -f "$work/node.tar" "$out"
# Earlier recipes of this version are of no more use.
find "$NODE_CACHE" -maxdepth 1 -name "node-$K8S_VERSION-*.tar" ! -path "$out" -delete
say "built $out ($(( $(stat -c %s "$out") / 1048576 )) MB) in $(( $(date +%s) - start )) s"
echo "$out"
