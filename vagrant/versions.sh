# shellcheck shell=bash disable=SC2034
# versions.sh — the ONE place the book's machine pins versions and paths.
# Sourced by every script under vagrant/ (and read by the TypeScript runner's tests).
# Change a version here, and nowhere else.

# Kubernetes commands (kubelet, kube-apiserver, kube-controller-manager, kube-scheduler,
# kube-proxy, kubectl) and their images.
K8S_VERSION=${K8S_VERSION:-v1.37.2}
# etcd + etcdctl. The upstream image tag adds a "-0" build suffix.
ETCD_VERSION=${ETCD_VERSION:-v3.7.0}
ETCD_IMAGE_TAG=${ETCD_IMAGE_TAG:-${ETCD_VERSION#v}-0}
# cri-dockerd: kubelet -> CRI -> Docker (dockershim left Kubernetes in 1.24).
CRI_DOCKERD_VERSION=${CRI_DOCKERD_VERSION:-v0.4.6}
# CNI reference plugins (pod networking) in /opt/cni/bin: bridge, host-local, loopback, portmap,
# and firewall (lets pod traffic through the FORWARD chain, whose policy Docker sets to DROP).
CNI_PLUGINS_VERSION=${CNI_PLUGINS_VERSION:-v1.10.0}
CNI_PLUGINS=(bridge host-local loopback portmap firewall)
CNI_BIN_DIR=${CNI_BIN_DIR:-/opt/cni/bin}
# CoreDNS: the version kubeadm pins for this Kubernetes (cmd/kubeadm/app/constants: CoreDNSVersion).
COREDNS_VERSION=${COREDNS_VERSION:-v1.14.6}
COREDNS_IMAGE=registry.k8s.io/coredns/coredns:${COREDNS_VERSION}
# The pod sandbox ("pause") image cri-dockerd starts for every pod.
PAUSE_IMAGE_TAG=${PAUSE_IMAGE_TAG:-3.10.2}
PAUSE_IMAGE=registry.k8s.io/pause:${PAUSE_IMAGE_TAG}

# Docker: cri-dockerd >= 0.3.12 needs Docker API >= 1.42. Debian 12's docker.io is 20.10
# (API 1.41), so on Debian 12 we take Debian 13 (trixie)'s docker.io 26.1.x; Ubuntu 24.04's
# own docker.io is newer still. DOCKER_MIN_API is checked after install.
DOCKER_DEBIAN_SUITE=${DOCKER_DEBIAN_SUITE:-trixie}
DOCKER_DEBIAN_VERSION_GLOB=${DOCKER_DEBIAN_VERSION_GLOB:-26.1.*}
DOCKER_MIN_API=${DOCKER_MIN_API:-1.42}

# Where offline builds and image tarballs are cached, one directory per version:
#   $BOOK_CACHE/k8s-v1.37.2/bin/{kubelet,kube-apiserver,...}
#   $BOOK_CACHE/etcd-v3.7.0/bin/{etcd,etcdctl}
#   $BOOK_CACHE/cri-dockerd-v0.4.6/bin/cri-dockerd
#   $BOOK_CACHE/cni-plugins-v1.10.0/bin/{bridge,host-local,loopback,portmap}
#   $BOOK_CACHE/coredns-v1.14.6/bin/coredns
#   $BOOK_CACHE/images/*.tar            (rootfs tarballs, `docker import`ed at machine up)
#   $BOOK_CACHE/logs/                   (build logs, timings)
BOOK_CACHE=${BOOK_CACHE:-/var/cache/build-a-minikube}
K8S_CACHE=$BOOK_CACHE/k8s-$K8S_VERSION
ETCD_CACHE=$BOOK_CACHE/etcd-$ETCD_VERSION
CRI_DOCKERD_CACHE=$BOOK_CACHE/cri-dockerd-$CRI_DOCKERD_VERSION
CNI_CACHE=$BOOK_CACHE/cni-plugins-$CNI_PLUGINS_VERSION
COREDNS_CACHE=$BOOK_CACHE/coredns-$COREDNS_VERSION
IMAGES_CACHE=$BOOK_CACHE/images

# The Kubernetes commands the book uses.
K8S_COMMANDS=(kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)
# The images the book's manifests name (upstream names, so manifests are the same online/offline).
K8S_IMAGE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

# Where binaries are installed on the machine.
BOOK_BIN_DIR=${BOOK_BIN_DIR:-/usr/local/bin}
