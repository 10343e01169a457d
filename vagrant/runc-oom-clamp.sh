#!/usr/bin/env bash
# runc-oom-clamp.sh — a runc for sandboxes without CAP_SYS_RESOURCE (some CI containers and
# micro-VMs drop it). Lowering a process's oom_score_adj below 0 needs that capability, and
# cri-dockerd gives every pod sandbox (pause) -998 and Guaranteed pods' containers -997, so runc
# fails with "can't get final child's PID from pipe: EOF". This wrapper raises a negative
# .process.oomScoreAdj in the OCI bundle to 0, then runs the real runc unchanged.
#
# local-machine.sh installs it as our dockerd's default runtime ONLY when CAP_SYS_RESOURCE is
# missing; on a VM or an ordinary root shell the real runc runs directly.
set -euo pipefail
real=${BOOK_REAL_RUNC:-/usr/sbin/runc}
bundle='' cmd='' prev=''
for a in "$@"; do
  case $prev in --bundle|-b) bundle=$a ;; esac
  case $a in
    --bundle=*) bundle=${a#--bundle=} ;;
    create|run) [[ -n $cmd ]] || cmd=$a ;;
  esac
  prev=$a
done
if [[ -n $cmd && -n $bundle && -f $bundle/config.json ]]; then
  adj=$(jq '.process.oomScoreAdj // 0' "$bundle/config.json")
  if [[ $adj -lt 0 ]]; then
    jq '.process.oomScoreAdj = 0' "$bundle/config.json" >"$bundle/config.json.book" \
      && mv "$bundle/config.json.book" "$bundle/config.json"
  fi
fi
exec "$real" "$@"
