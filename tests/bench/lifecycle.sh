#!/bin/sh
# tests/bench/lifecycle.sh RUNTIME BUNDLE ID: one container through the OCI lifecycle the
# engines drive (create, start, wait until stopped, delete), the same calls for every
# runtime, so that gocker, runc and crun compare on what podman and containerd make
# them do. The wait polls the runtime's own `state`, so it costs each runtime its own.
set -eu
rt=$1 bundle=$2 id=$3
"$rt" create --bundle "$bundle" "$id" </dev/null >/dev/null
"$rt" start "$id"
until "$rt" state "$id" | grep -q '"status": *"stopped"'; do :; done
"$rt" delete "$id"
