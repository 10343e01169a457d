#!/usr/bin/env bash
# provision.sh — provision a machine for the book: the Vagrant VM (Ubuntu LTS), any SSH host
# (Debian/Ubuntu), and this local host (Debian 12). Idempotent; a warm run takes seconds.
#
#   vagrant/provision.sh [--source auto|online|offline] [--daemons auto|systemd|none]
#                        [--keep-swap] [--no-images]
#
#   --source  where Kubernetes, etcd, cri-dockerd and the images come from:
#             online   official release binaries (dl.k8s.io, GitHub releases) + registry images
#             offline  vagrant/build-offline.sh: built from the Go module proxy and Debian
#                      packages into $BOOK_CACHE (or taken from it when already built)
#             auto     (default; or $BOOK_SOURCE) offline when BOOK_SOURCE=offline or the offline
#                      cache is complete — no network probe at all then —, else online when
#                      dl.k8s.io answers within 5 s, else offline
#   --daemons systemd: enable Docker's and cri-dockerd's systemd services and load the images
#             (VM, SSH hosts). none: start nothing (the local target: local-machine.sh runs its
#             own dockerd and cri-dockerd in a network namespace). auto: systemd when it runs.
#   --keep-swap  leave swap as it is (the local target: the kubelet then runs with
#             --fail-swap-on=false). Default: swapoff -a and comment swap out of /etc/fstab.
#   --binaries-only  only the binaries, into $BOOK_BIN_DIR and $CNI_BIN_DIR (node-image.sh puts
#             them into the docker target's node image): no packages, swap, daemons or record on
#             this host.
#
# Exit codes: 0 ok, 1 a step failed, 2 bad arguments, 3 this machine cannot be provisioned.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"

source_mode=${BOOK_SOURCE:-auto}
daemons=auto
keep_swap=0
load_images=1
binaries_only=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --source) source_mode=${2:-}; shift ;;
    --source=*) source_mode=${1#--source=} ;;
    --daemons) daemons=${2:-}; shift ;;
    --daemons=*) daemons=${1#--daemons=} ;;
    --keep-swap) keep_swap=1 ;;
    --no-images) load_images=0 ;;
    --binaries-only) binaries_only=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "provision.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case $source_mode in auto|online|offline) ;; *) echo "provision.sh: --source must be auto, online or offline" >&2; exit 2 ;; esac
case $daemons in auto|systemd|none) ;; *) echo "provision.sh: --daemons must be auto, systemd or none" >&2; exit 2 ;; esac

say() { printf '[provision %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
unfit() { say "CANNOT PROVISION: $*" >&2; exit 3; }

[[ $(uname -s) == Linux ]] || unfit "the book's machine is Linux; use the vagrant target on $(uname -s)"
[[ $(id -u) -eq 0 ]] || unfit "run as root (sudo $0 $*)"
if [[ $binaries_only -eq 1 ]]; then
  PRETTY_NAME="binaries only"; daemons=none
else
  [[ -r /etc/os-release ]] || unfit "no /etc/os-release: only Debian and Ubuntu are supported"
  # shellcheck disable=SC1091
  . /etc/os-release
  case ${ID:-} in debian|ubuntu) ;; *) unfit "only Debian and Ubuntu are supported (this is ${PRETTY_NAME:-unknown})" ;; esac
fi
case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) unfit "unsupported CPU $(uname -m)" ;; esac

if [[ $daemons == auto ]]; then
  if [[ -d /run/systemd/system ]]; then daemons=systemd; else daemons=none; fi
fi
start=$(date +%s)
say "$PRETTY_NAME, $arch; source=$source_mode daemons=$daemons cache=$BOOK_CACHE"

export DEBIAN_FRONTEND=noninteractive

installed() { # true when every package named is installed
  local p
  for p in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || return 1
  done
}

apt_updated=0
apt_update() { [[ $apt_updated -eq 1 ]] || { apt-get update -qq; apt_updated=1; }; }

# --- Docker ----------------------------------------------------------------------------------
# cri-dockerd needs Docker API >= $DOCKER_MIN_API. Debian 12's docker.io (20.10, API 1.41) is too
# old: take Debian 13's docker.io alone, pinned so nothing else comes from trixie (no libc
# upgrade), with Debian 12's containerd and runc.
docker_api_ok() {
  local v
  v=$(/usr/sbin/dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\.[0-9]*\).*/\1/p')
  [[ -n $v ]] || return 1
  # Docker 23 has API 1.42; every later Docker has more.
  [[ ${v%%.*} -ge 23 ]]
}

setup_trixie_docker() {
  local src=/etc/apt/sources.list.d/book-trixie.sources pref=/etc/apt/preferences.d/book-trixie
  local want_src want_pref
  want_src=$(printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$DOCKER_DEBIAN_SUITE")
  want_pref=$(printf '# build-a-minikube: only docker.io comes from %s; everything else stays on %s.\nPackage: *\nPin: release n=%s\nPin-Priority: 1\n\nPackage: docker.io\nPin: release n=%s\nPin-Priority: 500\n' \
    "$DOCKER_DEBIAN_SUITE" "$VERSION_CODENAME" "$DOCKER_DEBIAN_SUITE" "$DOCKER_DEBIAN_SUITE")
  if [[ $(cat "$src" 2>/dev/null) != "$want_src" || $(cat "$pref" 2>/dev/null) != "$want_pref" ]]; then
    say "apt: adding Debian $DOCKER_DEBIAN_SUITE for docker.io only ($pref)"
    printf '%s\n' "$want_src" >"$src"
    printf '%s\n' "$want_pref" >"$pref"
    apt_updated=0
  fi
}

packages=(docker.io containerd runc iptables socat conntrack curl jq ethtool ebtables ca-certificates util-linux iproute2 procps bind9-dnsutils)
# for offline builds: time (measures the build), gcc + libc6-dev (the static pause binary)
packages+=(time gcc libc6-dev)

if [[ $binaries_only -eq 1 ]]; then
  say "apt, docker, swap: left alone (--binaries-only)"
else
if [[ $ID == debian && ${VERSION_ID%%.*} == 12 ]]; then
  setup_trixie_docker
fi
if installed "${packages[@]}" && docker_api_ok; then
  say "apt: packages already installed"
else
  say "apt: installing ${packages[*]}"
  apt_update
  # --no-install-recommends: trixie's docker.io recommends newer tools that would pull a newer libc.
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  docker_api_ok || die "dockerd $(/usr/sbin/dockerd --version 2>/dev/null) is older than Docker 23 (API $DOCKER_MIN_API)"
fi
say "docker: $(/usr/sbin/dockerd --version)"
if [[ $ID == debian && ${VERSION_ID%%.*} == 12 ]]; then
  # shellcheck disable=SC2053
  [[ $(dpkg-query -W -f='${Version}' docker.io) == $DOCKER_DEBIAN_VERSION_GLOB ]] \
    || say "warning: docker.io $(dpkg-query -W -f='${Version}' docker.io) is not the expected $DOCKER_DEBIAN_VERSION_GLOB from $DOCKER_DEBIAN_SUITE"
fi

# --- swap ------------------------------------------------------------------------------------
if [[ $keep_swap -eq 0 ]] && [[ -n $(swapon --show --noheadings 2>/dev/null) ]]; then
  say "swap: turning off (the kubelet refuses to start with swap on)"
  swapoff -a
  sed -ri '/^[^#].*\sswap\s/ s/^/# (build-a-minikube) /' /etc/fstab
fi
fi

# --- Kubernetes, etcd, cri-dockerd -----------------------------------------------------------
offline_complete() {
  local c
  for c in "$K8S_CACHE" "$ETCD_CACHE" "$CRI_DOCKERD_CACHE" "$CNI_CACHE" "$COREDNS_CACHE"; do
    [[ -f $c/.complete ]] || return 1
  done
  for c in "${CNI_PLUGINS[@]}"; do [[ -x $CNI_CACHE/bin/$c ]] || return 1; done
  # shellcheck source=vagrant/images.sh
  source "$here/images.sh"
  images_complete
}

if [[ $source_mode == auto ]]; then
  if offline_complete; then
    source_mode=offline; say "source: offline (the cache in $BOOK_CACHE is complete)"
  elif curl -fsSI --max-time 5 "https://dl.k8s.io/release/$K8S_VERSION/bin/linux/$arch/kubelet.sha256" >/dev/null 2>&1; then
    source_mode=online; say "source: online (dl.k8s.io answers)"
  else
    source_mode=offline; say "source: offline (dl.k8s.io does not answer)"
  fi
fi

install_bin() { # SRC NAME [DIR] — install only when different (a warm run changes nothing)
  local src=$1 dst=${3:-$BOOK_BIN_DIR}/$2
  mkdir -p "$(dirname "$dst")"
  if ! cmp -s "$src" "$dst"; then
    install -m 0755 "$src" "$dst.book-new" && mv -f "$dst.book-new" "$dst"
    say "  installed $dst"
  fi
}

online_dir=$BOOK_CACHE/online
fetch() { # URL DEST [SHA256_URL]
  local url=$1 dst=$2 sumurl=${3:-}
  [[ -s $dst ]] && return 0
  say "  downloading $url"
  mkdir -p "$(dirname "$dst")"
  curl -fsSL --retry 3 -o "$dst.part" "$url" || die "cannot download $url (no internet? use --source offline)"
  if [[ -n $sumurl ]]; then
    # a .sha256 file (the hash alone) or a SHA256SUMS list ("HASH  NAME" lines)
    local want name=${url##*/}
    local sums; sums=$(curl -fsSL --retry 3 "$sumurl") || die "cannot download $sumurl"
    want=$(awk -v f="$name" 'NF == 1 { print $1; exit } $2 == f || $2 == "*" f { print $1; exit }' <<<"$sums")
    [[ -n $want ]] || die "no checksum for $name in $sumurl"
    echo "$want  $dst.part" | sha256sum -c --quiet - || die "checksum mismatch for $url"
  fi
  mv "$dst.part" "$dst"
}

provision_online() {
  local c d=$online_dir
  for c in "${K8S_COMMANDS[@]}"; do
    fetch "https://dl.k8s.io/release/$K8S_VERSION/bin/linux/$arch/$c" "$d/k8s-$K8S_VERSION/$c" \
      "https://dl.k8s.io/release/$K8S_VERSION/bin/linux/$arch/$c.sha256"
    install_bin "$d/k8s-$K8S_VERSION/$c" "$c"
  done
  local et=etcd-$ETCD_VERSION-linux-$arch
  fetch "https://github.com/etcd-io/etcd/releases/download/$ETCD_VERSION/$et.tar.gz" "$d/$et.tar.gz" \
    "https://github.com/etcd-io/etcd/releases/download/$ETCD_VERSION/SHA256SUMS"
  if [[ ! -x $d/$et/etcd ]]; then tar -xzf "$d/$et.tar.gz" -C "$d"; fi
  install_bin "$d/$et/etcd" etcd
  install_bin "$d/$et/etcdctl" etcdctl
  local cv=${CRI_DOCKERD_VERSION#v}
  fetch "https://github.com/Mirantis/cri-dockerd/releases/download/$CRI_DOCKERD_VERSION/cri-dockerd-$cv.$arch.tgz" "$d/cri-dockerd-$cv.$arch.tgz"
  if [[ ! -x $d/cri-dockerd-$cv/cri-dockerd/cri-dockerd ]]; then
    mkdir -p "$d/cri-dockerd-$cv"; tar -xzf "$d/cri-dockerd-$cv.$arch.tgz" -C "$d/cri-dockerd-$cv"
  fi
  install_bin "$d/cri-dockerd-$cv/cri-dockerd/cri-dockerd" cri-dockerd
  local cni=cni-plugins-linux-$arch-$CNI_PLUGINS_VERSION
  fetch "https://github.com/containernetworking/plugins/releases/download/$CNI_PLUGINS_VERSION/$cni.tgz" "$d/$cni.tgz" \
    "https://github.com/containernetworking/plugins/releases/download/$CNI_PLUGINS_VERSION/$cni.tgz.sha256"
  if [[ ! -x $d/$cni/bridge ]]; then mkdir -p "$d/$cni"; tar -xzf "$d/$cni.tgz" -C "$d/$cni"; fi
  for c in "${CNI_PLUGINS[@]}"; do install_bin "$d/$cni/$c" "$c" "$CNI_BIN_DIR"; done
}

provision_offline() {
  if ! offline_complete; then
    command -v go >/dev/null 2>&1 || unfit "offline builds need Go >= 1.26 in PATH (https://go.dev/dl/), or use --source online"
    say "offline: building into $BOOK_CACHE (cold: tens of minutes; log $BOOK_CACHE/logs/build-offline.log)"
    "$here/build-offline.sh" || die "the offline build failed (see $BOOK_CACHE/logs/build-offline.log)"
  fi
  local c
  for c in "${K8S_COMMANDS[@]}"; do install_bin "$K8S_CACHE/bin/$c" "$c"; done
  install_bin "$ETCD_CACHE/bin/etcd" etcd
  install_bin "$ETCD_CACHE/bin/etcdctl" etcdctl
  install_bin "$CRI_DOCKERD_CACHE/bin/cri-dockerd" cri-dockerd
  for c in "${CNI_PLUGINS[@]}"; do install_bin "$CNI_CACHE/bin/$c" "$c" "$CNI_BIN_DIR"; done
}

say "binaries: $source_mode -> $BOOK_BIN_DIR"
mkdir -p "$BOOK_BIN_DIR"
"provision_$source_mode"
kubelet_said=$("$BOOK_BIN_DIR/kubelet" --version 2>&1) || true
[[ $kubelet_said == "Kubernetes $K8S_VERSION" ]] || die "kubelet is not $K8S_VERSION: $kubelet_said"
if [[ $binaries_only -eq 1 ]]; then say "done in $(( $(date +%s) - start ))s"; exit 0; fi
# Record what this machine was provisioned with (read by local-machine.sh status).
mkdir -p /etc/build-a-minikube
printf 'source=%s\nk8s=%s\netcd=%s\ncri_dockerd=%s\npause=%s\ncni_plugins=%s\ncoredns=%s\n' \
  "$source_mode" "$K8S_VERSION" "$ETCD_VERSION" "$CRI_DOCKERD_VERSION" "$PAUSE_IMAGE" "$CNI_PLUGINS_VERSION" "$COREDNS_IMAGE" >/etc/build-a-minikube/provisioned

# --- daemons and images (systemd hosts) --------------------------------------------------------
if [[ $daemons == systemd ]]; then
  unit=/etc/systemd/system/cri-dockerd.service
  want_unit="[Unit]
Description=cri-dockerd: the CRI for Docker (build-a-minikube)
After=docker.service
Requires=docker.service

[Service]
ExecStart=$BOOK_BIN_DIR/cri-dockerd --container-runtime-endpoint unix:///var/run/cri-dockerd.sock --docker-endpoint unix:///var/run/docker.sock --pod-infra-container-image $PAUSE_IMAGE --network-plugin=
Restart=always

[Install]
WantedBy=multi-user.target"
  if [[ $(cat "$unit" 2>/dev/null) != "$want_unit" ]]; then
    printf '%s\n' "$want_unit" >"$unit"
    systemctl daemon-reload
  fi
  systemctl enable --now docker.service >/dev/null 2>&1 || die "cannot start docker.service"
  systemctl enable cri-dockerd.service >/dev/null 2>&1
  systemctl restart cri-dockerd.service || die "cannot start cri-dockerd.service"
  if [[ $load_images -eq 1 ]]; then
    if [[ $source_mode == online ]]; then
      for ref in "registry.k8s.io/kube-apiserver:$K8S_VERSION" "registry.k8s.io/kube-controller-manager:$K8S_VERSION" \
                 "registry.k8s.io/kube-scheduler:$K8S_VERSION" "registry.k8s.io/kube-proxy:$K8S_VERSION" \
                 "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" "$PAUSE_IMAGE" "$COREDNS_IMAGE" nginx:latest busybox:latest; do
        docker image inspect "$ref" >/dev/null 2>&1 || { say "  docker pull $ref"; docker pull -q "$ref" >/dev/null; }
      done
    else
      # shellcheck source=vagrant/images.sh
      source "$here/images.sh"
      images_load ""   # every image: a VM may be either node
    fi
    say "images: loaded into the system Docker"
  fi
fi

say "done in $(( $(date +%s) - start ))s"
