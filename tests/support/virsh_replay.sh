#!/bin/bash
# Test harness: a VIRSH for define.sh that keeps state between calls.
#
# virsh's test:///default driver forgets everything when a connection closes,
# so each call replays the state-changing commands that succeeded before
# (quietly, in the same connection) and then runs the new one with real virsh.
# A net-define is replayed from the definition libvirt stored (with the UUID
# it assigned), so that the network keeps one UUID across calls, as it would
# on a host.
#
# Usage: VIRSH_REPLAY_LOG=/tmp/x.log VIRSH=/path/virsh_replay.sh define.sh --apply
set -euo pipefail
log=${VIRSH_REPLAY_LOG:?set VIRSH_REPLAY_LOG}
touch "$log"
history=$(paste -sd ';' "$log")
prefix=${history:+$history; }

if [[ ${1:-} == net-define ]]; then
  file=${2:-}
  if [[ $file == --file ]]; then
    file=${3:-}
  fi
  name=$(sed -n 's|^ *<name>\(.*\)</name>$|\1|p' "$file" | head -n 1)
  stored=$(mktemp "$log.XXXXXX")
  virsh -q -c test:///default "${prefix}net-define --file $(printf '%q' "$file"); net-dumpxml --network $(printf '%q' "$name")" > "$stored"
  printf 'net-define --file %q\n' "$stored" >> "$log"
  exit 0
fi

command=$(printf '%q ' "$@")
virsh -q -c test:///default "$prefix$command"
case ${1:-} in
  net-autostart|net-start|net-undefine|net-destroy) printf '%s\n' "$command" >> "$log" ;;
  *) ;;
esac
