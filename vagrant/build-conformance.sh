#!/usr/bin/env bash
# build-conformance.sh — upstream's conformance tests for the cluster the book builds (issue 30),
# built offline from the Go module proxy and Debian's packages, cached by version:
#
#   $CONFORMANCE_CACHE/bin/e2e.test     `go test -c k8s.io/kubernetes/test/e2e` (a wrapper module)
#   $CONFORMANCE_CACHE/bin/agnhost      k8s.io/kubernetes/test/images/agnhost, the test image's binary
#   $CONFORMANCE_CACHE/bin/ginkgo       the Ginkgo CLI of the same module graph (runs e2e.test in parallel)
#   $CONFORMANCE_CACHE/busybox-1.37.0/bin/busybox   upstream BusyBox, static (the busybox image's)
#   $CONFORMANCE_CACHE/images/*.tar     rootfs tarballs + .meta (the format of images.sh), named and
#                                       tagged as test/utils/image/manifest.go of this version says
#   $CONFORMANCE_CACHE/images.txt       every ref built, one a line (`book conformance` reads the .meta files)
#   $CONFORMANCE_CACHE/.complete        the stamp: a warm run takes a second
#
#   vagrant/build-conformance.sh [--force] [--jobs N] [binary] [images]
#   vagrant/build-conformance.sh --print-cache     print $CONFORMANCE_CACHE and exit
#
# No registry is pulled from. agnhost's upstream image is Alpine with bind-tools, curl, netcat,
# iproute2 and CoreDNS added; ours is the same agnhost binary on Debian's (glibc) dig, curl, nc,
# ss, socat, getent and busybox, from this host's packages as images.sh's dnsutils image. The images
# manifest.go names and this script does not build (sample-apiserver, nonroot,
# the volume and CSI images, ...) stay absent: the specs that use them fail at the pull
# (docs/conformance.md lists them). The busybox image is upstream BusyBox built from source: its
# tarball comes from Debian's busybox source package (deb.debian.org; needs gcc, libc6-dev, make, bzip2).
# Exit codes: 0 ok, 1 a step failed, 2 bad arguments.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vagrant/versions.sh
source "$here/versions.sh"
# Beside the book's caches, one folder per Kubernetes version (not in versions.sh: the docker
# target's node image hashes that file, and carries none of this).
CONFORMANCE_CACHE=${CONFORMANCE_CACHE:-$BOOK_CACHE/conformance-$K8S_VERSION}

force=0
jobs=${BOOK_BUILD_JOBS:-2}
parts=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --force) force=1 ;;
    --jobs) [[ $# -ge 2 ]] || { echo "build-conformance.sh: --jobs needs a number" >&2; exit 2; }; jobs=$2; shift ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    --print-cache) echo "$CONFORMANCE_CACHE"; exit 0 ;;
    binary|images) parts+=("$1") ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build-conformance.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $jobs =~ ^[0-9]+$ ]] || { echo "build-conformance.sh: --jobs wants a number, got '$jobs'" >&2; exit 2; }
[[ ${#parts[@]} -gt 0 ]] || parts=(binary images)
[[ $(uname -s) == Linux ]] || { echo "build-conformance.sh: builds Linux binaries on Linux only" >&2; exit 2; }

out=$CONFORMANCE_CACHE
mkdir -p "$out"
# shellcheck source=vagrant/build-steps.sh
source "$here/build-steps.sh"
build_steps_start build-conformance conformance-

# Scratch files and folders of this run, removed however it ends.
scratch=()
cleanup() { local s; build_steps_cleanup; for s in "${scratch[@]}"; do rm -rf "$s"; done; }
trap cleanup EXIT

stamp() { [[ $force -eq 0 && -f $out/.$1.complete ]]; }
mark() { date -u +%FT%TZ >"$out/.$1.complete"; }

# ---------------------------------------------------------------------------------------------
# The e2e.test binary and agnhost, from one wrapper module (as build-offline.sh's build_k8s).
build_binary() {
  if stamp binary && [[ -x $out/bin/e2e.test && -x $out/bin/agnhost && -x $out/bin/ginkgo ]]; then say "e2e.test $K8S_VERSION: cached in $out/bin"; return 0; fi
  need go awk
  say "e2e.test $K8S_VERSION: building e2e.test, agnhost and ginkgo (cold: 15-25 minutes on 2 cores)"
  rm -f "$out/.binary.complete" "$out/.complete"
  local work=$out/src
  rm -rf "${work:?}" "${out:?}/bin"; mkdir -p "$work/e2e" "$out/bin"
  run_step download-module go mod download k8s.io/kubernetes@"$K8S_VERSION"
  local gomod dir
  gomod=$(cd /tmp && go mod download -json k8s.io/kubernetes@"$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  dir=$(cd /tmp && go mod download -json k8s.io/kubernetes@"$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -r $gomod && -d $dir/test/e2e ]] || die "cannot find k8s.io/kubernetes $K8S_VERSION in the module cache"
  "$here/gen-wrapper-gomod.sh" "$gomod" "$K8S_VERSION" book.local/conformance-wrapper >"$work/go.mod"
  # go mod tidy resolves what the main module's packages and their tests import, not a
  # dependency's tests: so a test file of our own imports what test/e2e's tests import
  # (e2e_test.go's list, read from the source, never hard-coded).
  local imports
  imports=$(awk '
    /^import \(/ { inimp = 1; next }
    inimp && /^\)/ { exit }
    inimp && $1 !~ /^\/\// { for (i = 1; i <= NF; i++) if ($i ~ /^"/) { gsub(/"/, "", $i); print $i } }
  ' "$dir"/test/e2e/*_test.go | sort -u)
  [[ $imports == *k8s.io/kubernetes/test/e2e/framework* ]] || die "no imports found in $dir/test/e2e/*_test.go"
  {
    echo "// Generated by vagrant/build-conformance.sh. Do not edit."
    echo "// Package e2e imports what k8s.io/kubernetes/test/e2e's tests import, so go mod tidy keeps it."
    echo "package e2e"
    echo
    echo "import ("
    echo "	_ \"k8s.io/kubernetes/test/e2e\""
    local i
    while read -r i; do
      case $i in flag|fmt|os|path/filepath|testing|"") ;; *) echo "	_ \"$i\"" ;; esac
    done <<<"$imports"
    echo ")"
  } >"$work/e2e/imports_test.go"
  cat >"$work/tools.go" <<'GO'
//go:build tools

// Package tools pins agnhost and the Ginkgo CLI, which this wrapper module builds.
package tools

import (
	_ "github.com/onsi/ginkgo/v2/ginkgo"
	_ "k8s.io/kubernetes/test/images/agnhost"
)
GO
  (cd "$work" && run_step mod-tidy go mod tidy)

  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local ldflags="-s -w" pkg key val
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for key in gitVersion:"$K8S_VERSION" gitMajor:1 gitMinor:"$minor" gitTreeState:archive; do
      val=${key#*:}; key=${key%%:*}
      ldflags+=" -X '$pkg.$key=$val'"
    done
  done
  (cd "$work" && run_step e2e-build go test -c -vet=off -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out/bin/e2e.test" k8s.io/kubernetes/test/e2e)
  (cd "$work" && run_step agnhost-build go build -p "$jobs" -trimpath -ldflags "-s -w" -o "$out/bin/agnhost" k8s.io/kubernetes/test/images/agnhost)
  (cd "$work" && run_step ginkgo-build go build -p "$jobs" -trimpath -ldflags "-s -w" -o "$out/bin/ginkgo" github.com/onsi/ginkgo/v2/ginkgo)
  local said
  said=$("$out/bin/e2e.test" --version 2>&1) || true
  [[ $said == *"$K8S_VERSION"* ]] || die "e2e.test --version does not say $K8S_VERSION: $said"
  said=$("$out/bin/agnhost" --help 2>&1) || true
  [[ $said == *netexec* ]] || die "agnhost --help names no netexec: ${said:0:200}"
  said=$("$out/bin/ginkgo" version 2>&1) || true
  [[ $said == *"Ginkgo Version"* ]] || die "ginkgo version says: ${said:0:200}"
  mark binary
  say "e2e.test $K8S_VERSION: $(du -h "$out/bin/e2e.test" | cut -f1) e2e.test, $(du -h "$out/bin/agnhost" | cut -f1) agnhost, $(du -h "$out/bin/ginkgo" | cut -f1) ginkgo -> $out/bin"
}

# ---------------------------------------------------------------------------------------------
# Upstream BusyBox, static, for the busybox test image (image_busybox says why not Debian's).
# busybox.net is not reachable: the tarball is the orig tarball of Debian's busybox source package
# in $busybox_suite, which is upstream's unchanged (the sha256 below is busybox.net's for it), got
# through an apt state of our own (sources, lists, caches under the work folder; the host's apt
# is not touched), and apt checks it against the signed Sources index. Debian's patches are not
# applied. Upstream's defconfig, static, without tc (its CBQ code does not build against kernel
# headers 6.8 and later, which dropped CBQ: busybox bug 15931; no spec runs tc). Cached by version;
# the stamp holds a hash of build_busybox itself, so a changed recipe builds again.
busybox_version=1.37.0
busybox_sha256=3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4
busybox_suite=trixie
busybox_bin=$out/busybox-$busybox_version/bin/busybox

build_busybox() {
  local stampf=$out/.busybox-$busybox_version.complete recipe
  recipe=$(declare -f build_busybox | sha256sum | cut -c1-12)
  if [[ $force -eq 0 && -x $busybox_bin && -f $stampf && $(<"$stampf") == *" recipe $recipe" ]]; then
    say "busybox $busybox_version: cached in ${busybox_bin%/*}"; return 0
  fi
  need apt-get tar sha256sum ldd nproc
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg cmd missing=()
  for cmd in gcc make bzip2; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done
  # gcc without libc6-dev has no libc.a to link a static binary with
  if command -v gcc >/dev/null 2>&1 && [[ $(gcc -print-file-name=libc.a) != /* ]]; then missing+=(libc6-dev); fi
  [[ -r $keyring ]] || missing+=(debian-archive-keyring)
  [[ ${#missing[@]} -eq 0 ]] || die "busybox $busybox_version: building it needs ${missing[*]} (apt-get install ${missing[*]})"
  say "busybox $busybox_version: building upstream's, static, from source (cold: about a minute on 2 cores)"
  rm -f "$stampf"
  rm -rf "$out"/.busybox.*   # a run killed midway leaves its work folder
  local work; work=$(mktemp -d "$out/.busybox.XXXXXX"); scratch+=("$work")
  chmod 755 "$work"   # apt downloads as its _apt user
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sources.list.d" "$work/dl"
  # apt downloads as its _apt user where that user may write (else it warns, and downloads as root)
  if [[ $EUID -eq 0 ]] && id -u _apt >/dev/null 2>&1; then chown _apt "$work/dl"; fi
  echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $busybox_suite main" >"$work/apt/sources.list"
  local apt=(apt-get -q -o Dir::Etc::sourcelist="$work/apt/sources.list" -o Dir::Etc::sourceparts="$work/apt/sources.list.d"
    -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache")
  run_step busybox-apt-update "${apt[@]}" update
  (cd "$work/dl" && run_step busybox-source "${apt[@]}" source --download-only busybox)
  local tarball=$work/dl/busybox_$busybox_version.orig.tar.bz2 got sum
  if [[ ! -f $tarball ]]; then
    got=$(cd "$work/dl" && echo *)
    die "Debian's $busybox_suite busybox source has no busybox_$busybox_version.orig.tar.bz2 (it has: $got): change busybox_version and busybox_sha256"
  fi
  sum=$(sha256sum "$tarball"); sum=${sum%% *}
  [[ $sum == "$busybox_sha256" ]] || die "$tarball: sha256 $sum, not upstream's $busybox_sha256"
  tar -xjf "$tarball" -C "$work"
  local src=$work/busybox-$busybox_version
  [[ -f $src/Makefile ]] || die "$tarball holds no busybox-$busybox_version/Makefile"
  (cd "$src" && run_step busybox-defconfig make defconfig)
  sed -i -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' -e 's/^CONFIG_TC=y$/# CONFIG_TC is not set/' "$src/.config"
  # oldconfig settles what those two change; with no terminal it fails on a question, never guesses
  (cd "$src" && run_step busybox-oldconfig make oldconfig </dev/null)
  local config; config=$'\n'$(<"$src/.config")$'\n'
  [[ $config == *$'\nCONFIG_STATIC=y\n'* && $config == *$'\nCONFIG_SH_IS_ASH=y\n'* && $config != *$'\nCONFIG_TC=y\n'* ]] \
    || die "busybox $busybox_version: .config is not static with ash as sh and without tc (see $src/.config)"
  (cd "$src" && run_step busybox-build make -j"$(nproc)" busybox)
  # What the image needs of it: static, sh passes on variables such as data-1, ash's messages.
  local bin=$src/busybox said
  said=$(ldd "$bin" 2>&1) || true
  [[ $said == *"not a dynamic executable"* || $said == *"statically linked"* ]] || die "$bin is not static: $said"
  said=$(env -i 'data-1=kept' "$bin" sh -c env 2>&1) || die "$bin sh -c env failed: $said"
  [[ $'\n'$said$'\n' == *$'\ndata-1=kept\n'* ]] || die "$bin's sh drops the variable data-1 (the envFrom specs need it): $said"
  said=$(cd "$work" && "$bin" sh -c 'echo test >none/file' 2>&1) || true
  [[ $said == "sh: can't create none/file: "* ]] || die "$bin's sh is not ash, its redirection error says: $said"
  mkdir -p "${busybox_bin%/*}"
  cp "$bin" "$busybox_bin.tmp"
  mv "$busybox_bin.tmp" "$busybox_bin"
  echo "$(date -u +%FT%TZ) recipe $recipe" >"$stampf"
  rm -rf "$work"
  say "busybox $busybox_version: $(du -h "$busybox_bin" | cut -f1) -> $busybox_bin"
}

# ---------------------------------------------------------------------------------------------
# The test images, under the names manifest.go gives them. images.sh's helpers (rootfs_skeleton,
# add_with_libs, busybox_into, busybox_links, debian_download, write_image) write into
# IMAGES_CACHE, pointed at our own folder, so the book's image cache is not touched.

# manifest_ref KEY — the ref test/utils/image/manifest.go gives the image KEY (Agnhost, BusyBox,
# Nginx, NginxNew, ...) in this version: `configs[KEY] = Config{list.REGISTRY, "NAME", "TAG"}`.
manifest_ref() {
  local key=$1 line reg name tag
  line=$(awk -v k="configs[$key]" 'index($0, k " = Config{") { print; exit }' "$manifest")
  [[ -n $line ]] || die "manifest.go names no image $key"
  [[ $line =~ Config\{list\.([A-Za-z0-9]+),\ *\"([^\"]+)\",\ *\"([^\"]+)\"\} ]] || die "cannot read manifest.go's line: $line"
  reg=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]} tag=${BASH_REMATCH[3]}
  local regline
  regline=$(awk -v r="$reg:" '$1 == r { print; exit }' "$manifest")
  [[ $regline =~ \"([^\"]+)\" ]] || die "manifest.go names no registry $reg"
  echo "${BASH_REMATCH[1]}/$name:$tag"
}

# conformance_image BUILDER KEY [ALSO...] — build KEY's image unless cached, tagged also as the
# images ALSO... name (the same content under another of manifest.go's names).
conformance_image() {
  local builder=$1 key=$2 ref name refs k r; shift 2
  ref=$(manifest_ref "$key"); name=$(image_file "$ref"); refs=$ref
  for k in "$@"; do r=$(manifest_ref "$k"); refs+=",$r"; done
  tr , '\n' <<<"$refs" >>"$refs_list"
  if image_cached "$name"; then say "  image $ref: cached"; return 0; fi
  "$builder" "$refs" "$name"
}

# agnhost: the binary, Debian's network tools (dig, curl, nc, ss, socat, ip) with their libraries,
# busybox for sh and the rest; the uploads folder, porter's certificate, the agnhost-2 link and
# the user and group the SupplementalGroups specs look for, as upstream's Dockerfile has them.
image_agnhost() {
  local ref=$1 name=$2 tool tools=() dl root
  for tool in /usr/bin/dig /usr/bin/nslookup /usr/bin/getent /usr/bin/curl /usr/bin/nc.openbsd /usr/bin/ss /usr/bin/socat /usr/bin/ip /usr/bin/bash; do
    if [[ -x $tool ]]; then tools+=("$tool"); else say "  agnhost: $tool is missing on this host (apt-get install bind9-dnsutils curl netcat-openbsd iproute2 socat); left out"; fi
  done
  dl=$(images_workdir); root=$(images_workdir); scratch+=("$dl" "$root")
  debian_download "$dl" busybox-static
  rootfs_skeleton "$root"
  [[ ${#tools[@]} -eq 0 ]] || add_with_libs "$root" "${tools[@]}"
  if [[ -e $root/usr/bin/nc.openbsd ]]; then ln -sf nc.openbsd "$root/usr/bin/nc"; fi
  busybox_into "$root" "$(ls "$dl"/busybox-static_*.deb)"
  # Debian's static busybox runs its own applets before PATH (nc, ip, wget): its sh would run its
  # nc, not OpenBSD's, for the specs' `sh -c '… | nc -v -t -w 2 HOST PORT'`. So sh is bash here.
  if [[ -x $root/usr/bin/bash ]]; then ln -sf bash "$root/usr/bin/sh"; fi
  cp "$out/bin/agnhost" "$root/agnhost"
  ln -s agnhost "$root/agnhost-2"
  mkdir -p "$root/uploads"
  cp "$kdir/test/images/agnhost/porter/localhost.crt" "$kdir/test/images/agnhost/porter/localhost.key" "$root/"
  chmod 0644 "$root/localhost.crt" "$root/localhost.key"
  echo 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh' >>"$root/etc/passwd"
  printf 'user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n' >>"$root/etc/group"
  write_image "$root" "$name" "$ref" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'EXPOSE 80' 'EXPOSE 8080' 'EXPOSE 8081' 'EXPOSE 9376' 'EXPOSE 5000' 'ENTRYPOINT ["/agnhost"]' 'CMD ["pause"]'
  rm -rf "$root" "$dl"
}

# glibc-dns-testing: upstream's is Debian 12 (bookworm) with dnsutils, for the DNS specs' glibc
# prober (dig, and getent through glibc's resolver); ours is this host's dig, getent and their
# libraries on busybox (sh, seq, sleep, test).
image_glibc_dns() {
  local ref=$1 name=$2 tool dl root
  for tool in /usr/bin/dig /usr/bin/getent /usr/bin/nslookup; do
    [[ -x $tool ]] || die "$tool is missing: the glibc-dns-testing image needs it (apt-get install bind9-dnsutils)"
  done
  dl=$(images_workdir); root=$(images_workdir); scratch+=("$dl" "$root")
  debian_download "$dl" busybox-static
  rootfs_skeleton "$root"
  add_with_libs "$root" /usr/bin/dig /usr/bin/getent /usr/bin/nslookup
  busybox_into "$root" "$(ls "$dl"/busybox-static_*.deb)"
  write_image "$root" "$name" "$ref" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]'
  rm -rf "$root" "$dl"
}

# busybox: upstream BusyBox (build_busybox), static, an applet link for each applet: sh is its ash,
# and there is no bash, as in upstream's e2e busybox image. Not Debian's busybox: Debian patches
# its ash to drop environment variables whose names are no shell names (`data-1`, which the
# ConfigMap and Secret envFrom specs look for in `sh -c env`); upstream's ash passes them on. And
# not bash as sh: the read-only-root spec matches ash's own error text ("/bin/sh: can't create
# /file: Read-only file system").
image_busybox() {
  local ref=$1 name=$2 root
  [[ -x $busybox_bin ]] || die "$busybox_bin is missing: build_busybox first"
  root=$(images_workdir); scratch+=("$root")
  rootfs_skeleton "$root"
  cp "$busybox_bin" "$root/usr/bin/busybox"
  busybox_links "$root"
  [[ -L $root/usr/bin/sh ]] || die "$busybox_bin has no sh applet"
  write_image "$root" "$name" "$ref" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]'
  rm -rf "$root"
}

# nginx: the book's own nginx image (Debian's nginx), retagged. The specs only need an HTTP
# server on port 80 that answers.
image_nginx() {
  local ref=$1 name=$2 meta='' m root src=$BOOK_IMAGES saved
  for m in "$src"/nginx_*.meta; do [[ -e $m ]] && meta=$m; done
  if [[ -z $meta ]]; then
    # A fresh machine whose book images are not built yet: Debian's nginx as images.sh builds it, aside.
    src=$(mktemp -d "$out/.nginx.XXXXXX"); scratch+=("$src")
    saved=$IMAGES_CACHE; IMAGES_CACHE=$src
    build_image_nginx
    IMAGES_CACHE=$saved
    for m in "$src"/nginx_*.meta; do [[ -e $m ]] && meta=$m; done
    [[ -n $meta ]] || die "could not build Debian's nginx image into $src"
  fi
  root=$(images_workdir); scratch+=("$root")
  tar -xf "${meta%.meta}.tar" -C "$root"
  local changes=() line
  while IFS= read -r line; do [[ $line != "change "* ]] || changes+=("${line#change }"); done <"$meta"
  write_image "$root" "$name" "$ref" "${changes[@]}"
  rm -rf "$root"
}

# kitten and nautilus (the Update Demo specs roll one into the other): upstream's are agnhost with
# a picture and a data.json in / and `test-webserver` to serve them. Ours: the agnhost binary and
# those files on an empty root (the specs only fetch data.json; 62 MB, not agnhost's image twice).
image_webserver() {
  local ref=$1 name=$2 what=$3 root
  [[ -r $kdir/test/images/$what/html/data.json ]] || die "$kdir/test/images/$what/html is missing"
  root=$(images_workdir); scratch+=("$root")
  rootfs_skeleton "$root"
  cp "$out/bin/agnhost" "$root/agnhost"
  cp "$kdir/test/images/$what/html/"* "$root/"
  chmod 0644 "$root/data.json" "$root/$what.jpg"
  write_image "$root" "$name" "$ref" 'EXPOSE 80' 'ENTRYPOINT ["/agnhost"]' 'CMD ["test-webserver"]'
  rm -rf "$root"
}
image_kitten() { image_webserver "$1" "$2" kitten; }
image_nautilus() { image_webserver "$1" "$2" nautilus; }

# nonewprivs: upstream's nnp.go (prints the effective uid), setuid root, on busybox; the
# AllowPrivilegeEscalation specs run it as uid 1000 and read which uid it got.
image_nonewprivs() {
  local ref=$1 name=$2 dl root src
  need go
  dl=$(images_workdir); root=$(images_workdir); src=$(images_workdir); scratch+=("$dl" "$root" "$src")
  cp "$kdir/test/images/nonewprivs/nnp.go" "$src/"
  chmod 0644 "$src/nnp.go"
  printf 'module nnp\n\ngo 1.21\n' >"$src/go.mod"
  debian_download "$dl" busybox-static
  rootfs_skeleton "$root"
  busybox_into "$root" "$(ls "$dl"/busybox-static_*.deb)"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$root/usr/local/bin/nnp" .)
  chmod 4755 "$root/usr/local/bin/nnp"
  write_image "$root" "$name" "$ref" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["nnp"]'
  rm -rf "$root" "$dl" "$src"
}

# The images' recipe: this script and images.sh, hashed. A cache built by another recipe is rebuilt
# (a warm cache must never hide what a cold build would make differently).
images_recipe() { cat "$here/build-conformance.sh" "$here/images.sh" | sha256sum | cut -c1-12; }

build_images() {
  local recipe; recipe=$(images_recipe)
  if stamp images && [[ -s $out/images.txt && $(<"$out/.images.complete") == *" recipe $recipe" ]]; then say "images: cached in $out/images"; return 0; fi
  [[ -x $out/bin/agnhost ]] || die "$out/bin/agnhost is missing: build the binary first"
  need tar dpkg-deb ldd
  rm -f "$out/.images.complete" "$out/.complete"
  # Before force=1 below: --force builds busybox again, a new recipe of the images does not.
  build_busybox
  kdir=$(cd /tmp && go mod download -json k8s.io/kubernetes@"$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  manifest=$kdir/test/utils/image/manifest.go
  [[ -r $manifest ]] || die "cannot read $manifest"
  BOOK_IMAGES=$IMAGES_CACHE
  IMAGES_CACHE=$out/images
  # shellcheck source=vagrant/images.sh
  source "$here/images.sh"
  mkdir -p "$IMAGES_CACHE"
  rm -rf "$IMAGES_CACHE"/.work.* "$IMAGES_CACHE"/.*.tar.tmp "$IMAGES_CACHE"/*.meta.tmp
  local force=1   # every image again: the stamp said the recipe changed (or there was none)
  refs_list=$out/.images.txt.tmp; : >"$refs_list"
  say "images: building rootfs tarballs into $IMAGES_CACHE"
  # agnhost:2.55 (AgnhostPrev: the Deployment specs roll from it to the current one) is our
  # agnhost under that tag: the specs need a second name, not the older program.
  conformance_image image_agnhost Agnhost AgnhostPrev
  conformance_image image_busybox BusyBox
  conformance_image image_nginx Nginx
  conformance_image image_nginx NginxNew
  conformance_image image_glibc_dns GlibcDnsTesting
  conformance_image image_kitten Kitten
  conformance_image image_nautilus Nautilus
  conformance_image image_nonewprivs Nonewprivs
  mv "$refs_list" "$out/images.txt"
  echo "$(date -u +%FT%TZ) recipe $recipe" >"$out/.images.complete"
}

total_start=$(date +%s)
say "cache: $out  parts: ${parts[*]}  jobs: $jobs"
for p in "${parts[@]}"; do
  case $p in
    binary) build_binary ;;
    images) build_images ;;
  esac
done
if [[ -f $out/.binary.complete && -f $out/.images.complete ]]; then date -u +%FT%TZ >"$out/.complete"; fi
say "all done in $(( $(date +%s) - total_start ))s"
