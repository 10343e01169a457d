#!/usr/bin/env bash
# build-offline.sh — build everything the book's machine needs from the Go module proxy and
# Debian packages alone (no GitHub, no release downloads, no container registry), into
# $BOOK_CACHE (see versions.sh). Idempotent: what is already cached is skipped, so a warm run
# takes seconds. A cold run takes tens of minutes on 2 cores: run it in the background.
#
#   vagrant/build-offline.sh [--force] [--jobs N] [k8s] [etcd] [cri-dockerd] [cni] [coredns] [images]
#
# With no component named, builds all of them. --force rebuilds the named (or all) components.
# Progress goes to stdout, the full log to $BOOK_CACHE/logs/build-offline.log, wall time and peak
# memory of each step to $BOOK_CACHE/logs/timings.tsv.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"

force=0
jobs=${BOOK_BUILD_JOBS:-2}
components=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --force) force=1 ;;
    --jobs) jobs=$2; shift ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    k8s|etcd|cri-dockerd|cni|coredns|images) components+=("$1") ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build-offline.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#components[@]} -gt 0 ]] || components=(k8s etcd cri-dockerd cni coredns images)

if [[ $(uname -s) != Linux ]]; then
  echo "build-offline.sh: builds Linux binaries on Linux only" >&2
  exit 2
fi

# shellcheck source=vagrant/build-steps.sh
source "$here/build-steps.sh"
build_steps_start build-offline
trap build_steps_cleanup EXIT

# The commit time recorded by the module proxy (reproducible build date).
module_time() { # module version -> RFC3339 time, from the proxy's .info
  local m=$1 v=$2 info
  info=$(cd /tmp && go mod download -json "$m@$v" 2>/dev/null | sed -n 's/.*"Info": "\(.*\)".*/\1/p')
  [[ -n $info && -r $info ]] && sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info" && return 0
  date -u +%Y-%m-%dT%H:%M:%SZ
}
module_commit() { # module version -> commit hash if the proxy knows it (Origin.Hash), else empty
  local m=$1 v=$2 info
  info=$(cd /tmp && go mod download -json "$m@$v" 2>/dev/null | sed -n 's/.*"Info": "\(.*\)".*/\1/p')
  [[ -n $info && -r $info ]] && sed -n 's/.*"Hash":"\([0-9a-f]*\)".*/\1/p' "$info"
  return 0
}

# check_version NAME WANT CMD... — CMD's output must contain WANT (captured, then matched).
check_version() {
  local name=$1 want=$2 said; shift 2
  said=$("$@" 2>&1) || true
  [[ $said == *"$want"* ]] || die "$name does not say $want: $said"
  printf '%s' "${said%%$'\n'*}"
}

complete() { [[ $force -eq 0 && -f $1/.complete ]]; }
mark_complete() { date -u +%FT%TZ >"$1/.complete"; }

# ---------------------------------------------------------------------------------------------
build_k8s() {
  local out=$K8S_CACHE
  if complete "$out"; then say "k8s $K8S_VERSION: cached in $out/bin"; return 0; fi
  need go awk
  say "k8s $K8S_VERSION: building ${K8S_COMMANDS[*]} (cold: tens of minutes on 2 cores)"
  local work=$out/src
  rm -rf "${work:?}" "${out:?}/bin"; mkdir -p "$work" "$out/bin"
  run_step "k8s-download-module" go mod download k8s.io/kubernetes@"$K8S_VERSION"
  local gomod
  gomod=$(cd /tmp && go mod download -json k8s.io/kubernetes@"$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -r $gomod ]] || die "cannot find k8s.io/kubernetes $K8S_VERSION go.mod in the module cache"
  "$here/gen-wrapper-gomod.sh" "$gomod" "$K8S_VERSION" book.local/k8s-wrapper >"$work/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "// Package tools pins the Kubernetes commands this wrapper module builds."
    echo "package tools"
    echo
    echo "import ("
    local c
    for c in "${K8S_COMMANDS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ")"
  } >"$work/tools.go"
  (cd "$work" && run_step "k8s-mod-tidy" go mod tidy)

  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local date commit
  date=$(module_time k8s.io/kubernetes "$K8S_VERSION")
  commit=$(module_commit k8s.io/kubernetes "$K8S_VERSION")
  local ldflags="-s -w" pkg key val
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for key in gitVersion:"$K8S_VERSION" gitMajor:1 gitMinor:"$minor" buildDate:"$date" \
               gitTreeState:"${commit:+clean}${commit:-archive}"; do
      val=${key#*:}; key=${key%%:*}
      ldflags+=" -X '$pkg.$key=$val'"
    done
    [[ -z $commit ]] || ldflags+=" -X '$pkg.gitCommit=$commit'"
  done
  local pkgs=()
  for c in "${K8S_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$work" && run_step "k8s-build" go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out/bin/" "${pkgs[@]}")
  for c in "${K8S_COMMANDS[@]}"; do [[ -x $out/bin/$c ]] || die "k8s build did not produce $c"; done
  # Capture, then match: `cmd | grep -q` under pipefail fails when grep exits before cmd is done.
  local said; said=$("$out/bin/kubelet" --version 2>&1) || true
  [[ $said == "Kubernetes $K8S_VERSION" ]] || die "kubelet --version is not 'Kubernetes $K8S_VERSION': $said"
  mark_complete "$out"
  say "k8s $K8S_VERSION: $said -> $out/bin"
}

# ---------------------------------------------------------------------------------------------
build_etcd() {
  local out=$ETCD_CACHE
  if complete "$out"; then say "etcd $ETCD_VERSION: cached in $out/bin"; return 0; fi
  need go
  say "etcd $ETCD_VERSION: building etcd, etcdctl"
  local work=$out/src
  rm -rf "${work:?}" "${out:?}/bin"; mkdir -p "$work/etcd" "$out/bin"
  local go_directive
  go_directive=$(go env GOVERSION); go_directive=${go_directive#go}
  cat >"$work/go.mod" <<GOMOD
// Generated by vagrant/build-offline.sh. Do not edit.
module book.local/etcd-wrapper

go ${go_directive%.*}.0

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 $ETCD_VERSION
)
GOMOD
  # etcd's own main package (the repository root) is a module that replaces its dependencies with
  # local directories, so build an identical main here: it only calls etcdmain.Main.
  cat >"$work/etcd/main.go" <<'GO'
// Command etcd is upstream etcd's main package: it only calls etcdmain.Main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
GO
  cat >"$work/tools.go" <<'GO'
//go:build tools

// Package tools pins etcdctl, which this wrapper module builds.
package tools

import _ "go.etcd.io/etcd/etcdctl/v3"
GO
  (cd "$work" && run_step "etcd-mod-tidy" go mod tidy)
  local commit ldflags="-s -w"
  commit=$(module_commit go.etcd.io/etcd/server/v3 "$ETCD_VERSION")
  [[ -z $commit ]] || ldflags+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:9}"
  (cd "$work" && run_step "etcd-build" go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out/bin/etcd" ./etcd)
  (cd "$work" && run_step "etcdctl-build" go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3)
  local said; said=$(check_version etcd "etcd Version: ${ETCD_VERSION#v}" "$out/bin/etcd" --version)
  mark_complete "$out"
  say "etcd $ETCD_VERSION: $said -> $out/bin"
}

# ---------------------------------------------------------------------------------------------
# build_main_module NAME MODULE VERSION OUT LDFLAGS PKG... — builds PKGs of MODULE as the main
# module (its go.mod's replace directives only apply there), in a writable copy of the read-only
# module cache directory, into OUT/bin.
build_main_module() {
  local name=$1 m=$2 v=$3 out=$4 ldflags=$5; shift 5
  run_step "$name-download-module" go mod download "$m@$v"
  local dir
  dir=$(cd /tmp && go mod download -json "$m@$v" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -d $dir ]] || die "cannot find $m $v in the module cache"
  local work=$out/src
  rm -rf "${work:?}" "${out:?}/bin"; mkdir -p "$out/bin"
  cp -r "$dir" "$work"; chmod -R u+w "$work"
  (cd "$work" && run_step "$name-build" go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out/bin/" "$@")
  rm -rf "${work:?}"   # a copy of the module cache's directory: not worth keeping
}


build_cri_dockerd() {
  local out=$CRI_DOCKERD_CACHE
  if complete "$out"; then say "cri-dockerd $CRI_DOCKERD_VERSION: cached in $out/bin"; return 0; fi
  need go
  say "cri-dockerd $CRI_DOCKERD_VERSION: building"
  local m=github.com/Mirantis/cri-dockerd commit ldflags
  commit=$(module_commit "$m" "$CRI_DOCKERD_VERSION")
  ldflags="-s -w -X $m/cmd/version.Version=${CRI_DOCKERD_VERSION#v} -X $m/cmd/version.PreRelease= -X $m/cmd/version.GitCommit=${commit:0:7}"
  [[ -n $commit ]] || ldflags="-s -w -X $m/cmd/version.Version=${CRI_DOCKERD_VERSION#v} -X $m/cmd/version.GitCommit=unknown"
  build_main_module cri-dockerd "$m" "$CRI_DOCKERD_VERSION" "$out" "$ldflags" .
  local said; said=$(check_version cri-dockerd "${CRI_DOCKERD_VERSION#v}" "$out/bin/cri-dockerd" --version)
  mark_complete "$out"
  say "cri-dockerd $CRI_DOCKERD_VERSION: $said -> $out/bin"
}

# ---------------------------------------------------------------------------------------------
build_cni() {
  local out=$CNI_CACHE
  local p have=1
  for p in "${CNI_PLUGINS[@]}"; do [[ -x $out/bin/$p ]] || have=0; done
  # The stamp and every plugin the book names (a cache from a shorter list is rebuilt).
  if [[ $have -eq 1 ]] && complete "$out"; then say "cni-plugins $CNI_PLUGINS_VERSION: cached in $out/bin"; return 0; fi
  need go
  say "cni-plugins $CNI_PLUGINS_VERSION: building ${CNI_PLUGINS[*]}"
  local m=github.com/containernetworking/plugins pkgs=()
  for p in "${CNI_PLUGINS[@]}"; do
    case $p in host-local) pkgs+=("./plugins/ipam/$p") ;; portmap|firewall) pkgs+=("./plugins/meta/$p") ;; *) pkgs+=("./plugins/main/$p") ;; esac
  done
  # The plugins print this on `VERSION` requests, as the release build's ldflags set it.
  build_main_module cni-plugins "$m" "$CNI_PLUGINS_VERSION" "$out" \
    "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" "${pkgs[@]}"
  for p in "${CNI_PLUGINS[@]}"; do [[ -x $out/bin/$p ]] || die "the CNI build did not produce $p"; done
  local said; said=$(check_version "CNI bridge" "$CNI_PLUGINS_VERSION" "$out/bin/bridge" --version)
  mark_complete "$out"
  say "cni-plugins $CNI_PLUGINS_VERSION: $said -> $out/bin"
}

# ---------------------------------------------------------------------------------------------
build_coredns() {
  local out=$COREDNS_CACHE
  if complete "$out"; then say "coredns $COREDNS_VERSION: cached in $out/bin"; return 0; fi
  need go
  say "coredns $COREDNS_VERSION: building"
  local m=github.com/coredns/coredns commit
  commit=$(module_commit "$m" "$COREDNS_VERSION")
  build_main_module coredns "$m" "$COREDNS_VERSION" "$out" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${commit:0:7}" .
  local said; said=$(check_version coredns "CoreDNS-${COREDNS_VERSION#v}" "$out/bin/coredns" -version)
  mark_complete "$out"
  say "coredns $COREDNS_VERSION: $said -> $out/bin"
}

# ---------------------------------------------------------------------------------------------
build_images() {
  # shellcheck source=vagrant/images.sh
  source "$here/images.sh"
  images_build
}

total_start=$(date +%s)
say "cache: $BOOK_CACHE  components: ${components[*]}  jobs: $jobs"
for c in "${components[@]}"; do
  case $c in
    k8s) build_k8s ;;
    etcd) build_etcd ;;
    cri-dockerd) build_cri_dockerd ;;
    cni) build_cni ;;
    coredns) build_coredns ;;
    images) build_images ;;
  esac
done
say "all done in $(( $(date +%s) - total_start ))s"
