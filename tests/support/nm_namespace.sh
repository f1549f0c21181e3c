#!/bin/bash
# The process that holds a private NetworkManager's namespaces (tests/support/networkmanager.py).
# Started as `unshare --mount --net --fork --kill-child --propagation private nm_namespace.sh
# FOLDER [NAME MAC|-]...`; the daemons are started in its namespaces with `nsenter -t PID -m -n`.
# It gives them a private /run and /var/lib/NetworkManager (folders under FOLDER, so that their
# pid files and sockets stay reachable from outside), a read-only sysfs of the new network
# namespace (writable sysfs makes NetworkManager wait for a udev that never runs), and a veth
# pair per NIC, named and addressed as the design has it. Then it sleeps until it is stopped;
# the namespaces, mounts and veths go with the last process in them. holder.pid says it is ready.
set -euo pipefail

folder=$1
shift
mount --bind "$folder/run" /run
mount --bind "$folder/state" /var/lib/NetworkManager
mount -t sysfs -o ro sysfs /sys
ip link set lo up

peer=0
while (($# >= 2)); do
  name=$1 mac=$2
  shift 2
  # The far end only gives the NIC a carrier; its name must fit IFNAMSIZ like the NIC's own.
  address=()
  [[ $mac == - ]] || address=(address "$mac")  # "-": the design gives no MAC, the kernel picks one
  ip link add "$name" "${address[@]}" type veth peer name "ovsgen-peer$peer"
  ip link set "ovsgen-peer$peer" up
  peer=$((peer + 1))
done

# Stopping this pid (it stays the same across exec) ends unshare too: unshare --fork ignores
# SIGTERM itself and exits when its child does.
printf '%s\n' "$$" >"$folder/holder.pid.new"
mv "$folder/holder.pid.new" "$folder/holder.pid"
exec sleep infinity
