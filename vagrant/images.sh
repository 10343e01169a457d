# shellcheck shell=bash
# images.sh — the book's offline container images. Sourced by build-offline.sh (images_build)
# and by provision.sh / local-machine.sh (images_load). Needs versions.sh sourced first.
#
# No registry is reachable, so each image is a small root filesystem tarball of our own, kept in
# $IMAGES_CACHE, and `docker import`ed into a machine's Docker under the UPSTREAM name, so the
# book's manifests are identical online and offline:
#   registry.k8s.io/kube-{apiserver,controller-manager,scheduler,proxy}:$K8S_VERSION
#   registry.k8s.io/etcd:$ETCD_IMAGE_TAG      registry.k8s.io/pause:$PAUSE_IMAGE_TAG
#   nginx:<Debian's nginx version> (e.g. 1.22.1, 1.22) and nginx:latest (the seed says `image: nginx`)
#   busybox:<version>, busybox:latest and dnsutils:<BIND version>, dnsutils:latest (clients)
# Each tarball NAME.tar has a NAME.meta beside it: `ref REF` lines (the first is imported, the
# others tagged) and `change INSTRUCTION` lines (passed to `docker import --change`).

images_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# What the caller must have set (versions.sh does): said here, not assumed.
: "${IMAGES_CACHE:?images.sh needs versions.sh sourced first (IMAGES_CACHE)}"
: "${K8S_CACHE:?images.sh needs versions.sh sourced first (K8S_CACHE)}"
: "${K8S_VERSION:?images.sh needs versions.sh sourced first (K8S_VERSION)}"

# images_workdir — a scratch folder for one image, inside the cache: a build that dies midway
# leaves it there, and the next images_build removes it (with any half-written tarball).
images_workdir() { mkdir -p "$IMAGES_CACHE" && mktemp -d "$IMAGES_CACHE/.work.XXXXXX"; }

# The helpers it uses: the caller's own say/die/need when it has them (build-offline.sh logs
# to its build log), these plain ones otherwise.
declare -F say >/dev/null || say() { printf '[images] %s\n' "$*"; }
declare -F die >/dev/null || die() { say "ERROR: $*" >&2; exit 1; }
declare -F need >/dev/null || need() {
  local cmd
  for cmd in "$@"; do command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is missing (install it: see vagrant/provision.sh)"; done
}

# image_file REF -> tarball basename (no extension)
image_file() { local r=${1//\//_}; echo "${r//:/_}"; }

# rootfs_skeleton DIR — merged-/usr layout, /etc/passwd and group, /tmp.
rootfs_skeleton() {
  local root=$1
  mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,etc,tmp,run,var/tmp,proc,sys,dev}
  ln -sfn usr/bin "$root/bin"; ln -sfn usr/sbin "$root/sbin"
  ln -sfn usr/lib "$root/lib"; ln -sfn usr/lib64 "$root/lib64"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

# add_with_libs ROOT FILE... — copy executables and every shared library ldd names (by real path,
# plus the path ldd printed, which the merged-/usr symlinks make the same place).
add_with_libs() {
  local root=$1; shift
  local f lib
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
    while read -r lib; do
      [[ -n $lib && -e $lib ]] || continue
      local real; real=$(readlink -f "$lib")
      local dst=${real#/}
      case $dst in lib/*|lib64/*|bin/*|sbin/*) dst=usr/$dst ;; esac
      mkdir -p "$root/$(dirname "$dst")"
      [[ -e $root/$dst ]] || cp -L "$lib" "$root/$dst"
      # the name the loader asks for (a symlink or the file itself)
      local want=${lib#/}
      case $want in lib/*|lib64/*|bin/*|sbin/*) want=usr/$want ;; esac
      if [[ $want != "$dst" && ! -e $root/$want ]]; then
        mkdir -p "$root/$(dirname "$want")"; ln -s "/$dst" "$root/$want"
      fi
    done < <(ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }')
  done
}

# write_image ROOT NAME REFS_CSV CHANGE... — tar ROOT into $IMAGES_CACHE/NAME.tar + NAME.meta.
write_image() {
  local root=$1 name=$2 refs=$3; shift 3
  local tmp=$IMAGES_CACHE/.$name.tar.tmp
  tar --create --file "$tmp" --directory "$root" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime='2020-01-01 00:00:00Z' .
  {
    local r c
    IFS=, read -ra _refs <<<"$refs"
    echo "recipe $IMAGE_RECIPE"
    for r in "${_refs[@]}"; do echo "ref $r"; done
    for c in "$@"; do echo "change $c"; done
  } >"$IMAGES_CACHE/$name.meta.tmp"
  mv "$tmp" "$IMAGES_CACHE/$name.tar"
  mv "$IMAGES_CACHE/$name.meta.tmp" "$IMAGES_CACHE/$name.meta"
  say "  image ${refs%%,*}: $(du -h "$IMAGES_CACHE/$name.tar" | cut -f1) -> $IMAGES_CACHE/$name.tar (${refs//,/ })"
}

# Bumped whenever an image's recipe changes, so a cache built by an older recipe is rebuilt
# (a warm cache must never hide what a cold build would make differently).
IMAGE_RECIPE=3
image_cached() {
  [[ ${force:-0} -eq 0 && -f $IMAGES_CACHE/$1.tar && -f $IMAGES_CACHE/$1.meta ]] || return 1
  local meta; meta=$(<"$IMAGES_CACHE/$1.meta")
  [[ $'\n'$meta$'\n' == *$'\n'"recipe $IMAGE_RECIPE"$'\n'* ]]
}

build_image_pause() {
  local ref=$PAUSE_IMAGE name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; return 0; fi
  need gcc
  local root; root=$(images_workdir)
  mkdir -p "$root"
  gcc -static -O2 -s -Wall -Wextra -DPAUSE_VERSION="\"$PAUSE_IMAGE_TAG\"" -o "$root/pause" "$images_here/images/pause.c" \
    || die "cannot build pause with gcc -static (install gcc and libc6-dev)"
  write_image "$root" "$name" "$ref" 'ENTRYPOINT ["/pause"]'
  rm -rf "$root"
}

build_image_k8s() {
  local c=$1 ref="registry.k8s.io/$1:$K8S_VERSION" name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; return 0; fi
  [[ -x $K8S_CACHE/bin/$c ]] || die "$K8S_CACHE/bin/$c is missing: build k8s first"
  local root; root=$(images_workdir)
  rootfs_skeleton "$root"
  cp "$K8S_CACHE/bin/$c" "$root/usr/local/bin/$c"
  if [[ $c == kube-proxy ]]; then
    # kube-proxy programs iptables through the iptables commands, as the upstream image does.
    # A fresh host may not have them yet (build-offline.sh run before provision.sh): an image
    # without them would build fine and fail only when kube-proxy first writes a rule.
    local ipt
    for ipt in /usr/sbin/xtables-legacy-multi /usr/sbin/conntrack; do
      [[ -x $ipt ]] || die "$ipt is missing: the kube-proxy image needs it (apt-get install iptables conntrack)"
    done
    for ipt in /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi /usr/sbin/conntrack; do
      if [[ -x $ipt ]]; then add_with_libs "$root" "$ipt"; fi
    done
    if [[ -d /usr/lib/x86_64-linux-gnu/xtables ]]; then
      mkdir -p "$root/usr/lib/x86_64-linux-gnu"; cp -r /usr/lib/x86_64-linux-gnu/xtables "$root/usr/lib/x86_64-linux-gnu/"
      local so; for so in "$root"/usr/lib/x86_64-linux-gnu/xtables/*.so; do add_with_libs "$root" "${so#"$root"}" 2>/dev/null || true; done
    fi
    # The same backend as the host's own `iptables` (Debian 12: nf_tables), as upstream's
    # iptables-wrapper picks it: rules kube-proxy writes must show in the machine's iptables-save.
    local t mode=legacy
    [[ $(readlink -f /usr/sbin/iptables) == */xtables-nft-multi ]] && mode=nft
    [[ -x $root/usr/sbin/xtables-$mode-multi ]] || die "xtables-$mode-multi is missing (apt-get install iptables)"
    for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
      if [[ -x $root/usr/sbin/xtables-legacy-multi ]]; then ln -sf xtables-legacy-multi "$root/usr/sbin/$t-legacy"; fi
      if [[ -x $root/usr/sbin/xtables-nft-multi ]]; then ln -sf xtables-nft-multi "$root/usr/sbin/$t-nft"; fi
      ln -sf "$t-$mode" "$root/usr/sbin/$t"
    done
  fi
  write_image "$root" "$name" "$ref" \
    'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "ENTRYPOINT [\"/usr/local/bin/$c\"]"
  rm -rf "$root"
}

build_image_etcd() {
  local ref="registry.k8s.io/etcd:$ETCD_IMAGE_TAG" name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; return 0; fi
  [[ -x $ETCD_CACHE/bin/etcd ]] || die "$ETCD_CACHE/bin/etcd is missing: build etcd first"
  local root; root=$(images_workdir)
  rootfs_skeleton "$root"
  cp "$ETCD_CACHE/bin/etcd" "$ETCD_CACHE/bin/etcdctl" "$root/usr/local/bin/"
  mkdir -p "$root/var/lib/etcd"
  write_image "$root" "$name" "$ref" \
    'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["/usr/local/bin/etcd"]'
  rm -rf "$root"
}

# debian_download DIR PKG... — Debian's .deb files of PKG into DIR (nothing is installed).
debian_download() {
  local dl=$1; shift
  need apt-get dpkg-deb
  chmod 755 "$dl"
  # A fresh machine may have no package lists yet: update once and try again.
  if ! (cd "$dl" && apt-get download "$@" >>"${log:-/dev/null}" 2>&1); then
    apt-get update -qq >>"${log:-/dev/null}" 2>&1 || true
    (cd "$dl" && apt-get download "$@" >>"${log:-/dev/null}" 2>&1) \
      || die "cannot download Debian's $* packages (apt-get update, then try again)"
  fi
}

# deb_version DEB — the upstream version of a .deb (1:1.22.1-9+deb12u1 -> 1.22.1)
deb_version() { local v; v=$(dpkg-deb -f "$1" Version); v=${v#*:}; v=${v%%-*}; echo "${v%%+*}"; }

build_image_coredns() {
  local ref=$COREDNS_IMAGE name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; return 0; fi
  [[ -x $COREDNS_CACHE/bin/coredns ]] || die "$COREDNS_CACHE/bin/coredns is missing: build coredns first"
  local root; root=$(images_workdir)
  rootfs_skeleton "$root"
  # As upstream: the static binary at /coredns, its entrypoint.
  cp "$COREDNS_CACHE/bin/coredns" "$root/coredns"
  write_image "$root" "$name" "$ref" 'EXPOSE 53/udp' 'EXPOSE 53/tcp' 'ENTRYPOINT ["/coredns"]'
  rm -rf "$root"
}

# busybox_into ROOT DEB — Debian's static busybox and a link for each applet not already in ROOT.
busybox_into() {
  local root=$1 deb=$2 x; x=$(images_workdir)
  dpkg-deb -x "$deb" "$x"
  cp "$x/bin/busybox" "$root/usr/bin/busybox"
  rm -rf "$x"
  busybox_links "$root"
}

# busybox_links ROOT — a link to ROOT/usr/bin/busybox for each of its applets not already in ROOT.
busybox_links() {
  local root=$1 applet busybox_list
  busybox_list=$("$root/usr/bin/busybox" --list) || die "$root/usr/bin/busybox does not run on this host"
  for applet in $busybox_list; do
    [[ $applet == busybox || -e $root/usr/bin/$applet || -e $root/usr/sbin/$applet ]] || ln -s busybox "$root/usr/bin/$applet"
  done
}

# A one-shot client for the Service chapter: Debian's static busybox (sh, nc).
build_image_busybox() {
  local dl; dl=$(images_workdir)
  debian_download "$dl" busybox-static
  local deb ver; deb=$(ls "$dl"/busybox-static_*.deb); ver=$(deb_version "$deb")
  local ref="busybox:$ver" name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; rm -rf "$dl"; return 0; fi
  local root; root=$(images_workdir)
  rootfs_skeleton "$root"
  busybox_into "$root" "$deb"
  write_image "$root" "$name" "busybox:$ver,busybox:latest" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]'
  rm -rf "$root" "$dl"
}

# The DNS chapter's client: BIND's dig, host and nslookup, and curl, with glibc's resolver
# (static busybox cannot resolve names: its libc lookups need the shared NSS modules).
# Taken, with their libraries, from this host's packages (provision.sh installs them), on
# busybox's shell and tools. Online, registry.k8s.io/e2e-test-images/jessie-dnsutils is the like.
build_image_dnsutils() {
  need ldd
  local tool
  for tool in /usr/bin/dig /usr/bin/host /usr/bin/nslookup /usr/bin/curl; do
    [[ -x $tool ]] || die "$tool is missing: the dnsutils image needs it (apt-get install bind9-dnsutils curl)"
  done
  local ver; ver=$(dpkg-query -W -f='${Version}' bind9-dnsutils); ver=${ver#*:}; ver=${ver%%-*}
  local ref="dnsutils:$ver" name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; return 0; fi
  local dl root; dl=$(images_workdir); root=$(images_workdir)
  debian_download "$dl" busybox-static
  rootfs_skeleton "$root"
  add_with_libs "$root" /usr/bin/dig /usr/bin/host /usr/bin/nslookup /usr/bin/curl
  busybox_into "$root" "$(ls "$dl"/busybox-static_*.deb)"
  write_image "$root" "$name" "dnsutils:$ver,dnsutils:latest" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]'
  rm -rf "$root" "$dl"
}

build_image_nginx() {
  need ldd
  local dl; dl=$(images_workdir)
  debian_download "$dl" nginx nginx-common busybox-static
  local deb ver
  deb=$(ls "$dl"/nginx_*.deb)
  ver=$(deb_version "$deb")
  local ref="nginx:$ver" name; name=$(image_file "$ref")
  if image_cached "$name"; then say "  image $ref: cached"; rm -rf "$dl"; return 0; fi
  local root x; root=$(images_workdir); x=$dl/x
  rootfs_skeleton "$root"
  dpkg-deb -x "$deb" "$x"; dpkg-deb -x "$(ls "$dl"/nginx-common_*.deb)" "$x"
  # the binary and its libraries (resolved on this host, the same Debian release)
  mkdir -p "$root/usr/sbin"
  cp "$x/usr/sbin/nginx" "$root/usr/sbin/nginx"
  local lib real
  while read -r lib; do
    [[ -e $lib ]] || die "nginx needs $lib, not installed on this host"
    real=$(readlink -f "$lib"); real=${real#/}
    case $real in lib/*|lib64/*) real=usr/$real ;; esac
    mkdir -p "$root/$(dirname "$real")"; cp -L "$lib" "$root/$real"
    local want=${lib#/}; case $want in lib/*|lib64/*) want=usr/$want ;; esac
    [[ $want == "$real" || -e $root/$want ]] || { mkdir -p "$root/$(dirname "$want")"; ln -s "/$real" "$root/$want"; }
  done < <(ldd "$x/usr/sbin/nginx" | awk '/=> \// { print $3 } /^\t\// { print $1 }')
  # Debian's configuration, with upstream's image's site: /usr/share/nginx/html is the document
  # root (a ConfigMap mounted there is what nginx serves, as readers' manifests expect), IPv4 only
  # as upstream's image is when its entrypoint finds no IPv6.
  cp -a "$x/etc/nginx" "$root/etc/nginx"
  rm -f "$root/etc/nginx/sites-enabled/default"
  mkdir -p "$root/etc/nginx/conf.d"
  cat >"$root/etc/nginx/conf.d/default.conf" <<'CONF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
CONF
  grep -q 'include /etc/nginx/conf.d/\*.conf;' "$root/etc/nginx/nginx.conf" || die "Debian's nginx.conf no longer includes conf.d/*.conf"
  mkdir -p "$root/usr/share/nginx"
  cp -a "$x/usr/share/nginx/html" "$root/usr/share/nginx/"
  grep -q 'Welcome to nginx!' "$root/usr/share/nginx/html/index.html" || die "nginx's default page has no 'Welcome to nginx!'"
  # A shell and the usual tools (`kubectl exec … -- sh`), as upstream's Debian-based image has:
  # Debian's static busybox.
  busybox_into "$root" "$(ls "$dl"/busybox-static_*.deb)"
  # www-data (uid/gid 33 on Debian and Ubuntu) runs the workers
  echo 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin' >>"$root/etc/passwd"
  echo 'www-data:x:33:' >>"$root/etc/group"
  mkdir -p "$root"/var/lib/nginx/{body,fastcgi,proxy,scgi,uwsgi} "$root/var/log/nginx"
  # logs to the container's stdout/stderr, as the upstream nginx image does
  ln -sf /dev/stdout "$root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$root/var/log/nginx/error.log"
  # tar records owners numerically as root; the workers need their temp dirs: world-writable
  chmod 1777 "$root"/var/lib/nginx/{body,fastcgi,proxy,scgi,uwsgi}
  local minor=${ver%.*}
  write_image "$root" "$name" "nginx:$ver,nginx:$minor,nginx:latest" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'EXPOSE 80/tcp' 'STOPSIGNAL SIGQUIT' 'CMD ["nginx", "-g", "daemon off;"]'
  rm -rf "$root" "$dl"
}

images_build() {
  mkdir -p "$IMAGES_CACHE"
  # Half-done state of a build that was killed: scratch folders and tarballs never renamed.
  rm -rf "$IMAGES_CACHE"/.work.* "$IMAGES_CACHE"/.*.tar.tmp "$IMAGES_CACHE"/*.meta.tmp
  say "images: building rootfs tarballs into $IMAGES_CACHE"
  build_image_pause
  local c
  for c in "${K8S_IMAGE_COMPONENTS[@]}"; do build_image_k8s "$c"; done
  build_image_etcd
  build_image_coredns
  build_image_nginx
  build_image_busybox
  build_image_dnsutils
}

# images_complete — true when every image tarball the book needs is in the cache.
images_complete() {
  # The same list the machine loads: registry images by name, Debian's by package (any version
  # built by this recipe will do: the packages name their own versions).
  local ref meta found
  while read -r ref; do
    case $ref in
      registry.k8s.io/*) image_cached "$(image_file "$ref")" || return 1 ;;
      *)
        found=0
        for meta in "$IMAGES_CACHE/${ref%%:*}"_*.meta; do
          if [[ -e $meta ]] && image_cached "$(basename "$meta" .meta)"; then found=1; fi
        done
        [[ $found -eq 1 ]] || return 1
        ;;
    esac
  done < <(images_expected)
}

# images_expected — the refs the book's manifests name, for this machine's versions.
images_expected() {
  local c
  for c in "${K8S_IMAGE_COMPONENTS[@]}"; do echo "registry.k8s.io/$c:$K8S_VERSION"; done
  echo "registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
  echo "$PAUSE_IMAGE"
  echo "$COREDNS_IMAGE"
  echo "nginx:latest"
  echo "busybox:latest"
  echo "dnsutils:latest"
}

# image_for_this_machine REF — false for the images of another version (the cache keeps every
# version side by side; a machine loads only its own).
image_for_this_machine() {
  case $1 in
    registry.k8s.io/*) [[ $'\n'$(images_expected)$'\n' == *$'\n'"$1"$'\n'* ]] ;;
    *) return 0 ;;
  esac
}

# images_load [SKIP] — docker import every cached tarball of this machine's versions not yet
# present (by its first ref, labelled with the recipe that built it) into the Docker that `docker`
# reaches (DOCKER_HOST), and tag the other refs; but none whose first ref matches the regex SKIP (a worker node has no use for the control
# plane's images). Idempotent.
images_load() {
  local skip=${1:-} meta refs changes line args first r recipe fresh
  for meta in "$IMAGES_CACHE"/*.meta; do
    [[ -e $meta ]] || continue
    refs=() changes=() recipe=
    while IFS= read -r line; do
      case $line in
        "recipe "*) recipe=${line#recipe } ;;
        "ref "*) refs+=("${line#ref }") ;;
        "change "*) changes+=("${line#change }") ;;
      esac
    done <"$meta"
    [[ ${#refs[@]} -gt 0 ]] || continue
    first=${refs[0]}
    image_for_this_machine "$first" || continue
    if [[ -n $skip && $first =~ $skip ]]; then continue; fi
    # An image of another recipe (a Docker data root kept across `down`) is imported again.
    fresh=0
    if [[ $(docker image inspect --format '{{index .Config.Labels "build-a-minikube.recipe"}}' "$first" 2>/dev/null || true) != "$recipe" ]]; then
      args=(--change "LABEL build-a-minikube.recipe=$recipe")
      for r in "${changes[@]}"; do args+=(--change "$r"); done
      docker import "${args[@]}" "${meta%.meta}.tar" "$first" >/dev/null
      fresh=1
    fi
    for r in "${refs[@]:1}"; do
      if [[ $fresh -eq 1 ]] || ! docker image inspect "$r" >/dev/null 2>&1; then docker tag "$first" "$r"; fi
    done
  done
}
