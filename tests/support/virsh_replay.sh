#!/bin/bash
# Test harness: a VIRSH for define.sh and the plan's libvirt scripts that keeps state
# between calls.
#
# virsh's test:///default driver forgets everything when a connection closes,
# so each call replays the state-changing commands that succeeded before
# (quietly, in the same connection) and then runs the new one with real virsh.
# A net-define is replayed from the definition libvirt stored (with the UUID
# it assigned), so that the network keeps one UUID across calls, as it would
# on a host. Domains defined and started through it stay too.
#
# The test driver keeps no separate stored definition for an active network
# (and refuses `net-dumpxml --inactive`): here a redefined active network takes
# its new definition at once (replayed as net-destroy, net-define, net-start),
# and `net-dumpxml --inactive` is answered by `net-dumpxml`. Both then show the
# stored definition, which is what the scripts compare.
#
# Usage: VIRSH_REPLAY_LOG=/tmp/x.log VIRSH=/path/virsh_replay.sh define.sh --apply
set -euo pipefail
log=${VIRSH_REPLAY_LOG:?set VIRSH_REPLAY_LOG}
touch "$log"
history=$(paste -sd ';' "$log")
prefix=${history:+$history; }

replay() {
  virsh -q -c test:///default "$prefix$1"
}

if [[ ${1:-} == net-define ]]; then
  file=${2:-}
  if [[ $file == --file ]]; then
    file=${3:-}
  fi
  name=$(sed -n 's|^ *<name>\(.*\)</name>$|\1|p' "$file" | head -n 1)
  quoted=$(printf '%q' "$name")
  active=no
  if replay "net-list --name" | grep -qxF -- "$name"; then
    active=yes
  fi
  stop=''
  if [[ $active == yes ]]; then
    stop="net-destroy --network $quoted; "
  fi
  stored=$(mktemp "$log.XXXXXX")
  replay "${stop}net-define --file $(printf '%q' "$file"); net-dumpxml --network $quoted" > "$stored"
  echo "Network $name defined from $file"
  {
    if [[ $active == yes ]]; then
      printf 'net-destroy --network %s\n' "$quoted"
    fi
    printf 'net-define --file %q\n' "$stored"
    if [[ $active == yes ]]; then
      printf 'net-start --network %s\n' "$quoted"
    fi
  } >> "$log"
  exit 0
fi

args=()
for word in "$@"; do
  if [[ ${1:-} == net-dumpxml && $word == --inactive ]]; then
    continue
  fi
  args+=("$word")
done
command=$(printf '%q ' "${args[@]}")
replay "$command"
case ${1:-} in
  net-autostart|net-start|net-undefine|net-destroy|define|start|destroy|undefine) printf '%s\n' "$command" >> "$log" ;;
  *) ;;
esac
