#!/bin/bash
# Test harness: bring up a folder of ifcfg-* files the way Open vSwitch's RHEL
# ifup-ovs script does, with the same ovs-vsctl invocations per TYPE and the
# same unquoted expansions (word splitting of OVS_OPTIONS, OVS_EXTRA and
# BOND_IFACES is exactly what these files rely on). ifup-ovs itself needs RHEL
# initscripts (/etc/init.d/functions, network-functions), which Debian lacks.
#
# Bridges are brought up first, as ifup-ovs's ifup_ovs_bridge does before any
# port. Files without DEVICETYPE=ovs are plain interfaces (ifup-eth): nothing
# in OVSDB.
#
# Usage: OVS_VSCTL="ovs-vsctl --db=..." ifup_ovs.sh NETWORK_SCRIPTS_DIR
set -e
dir=$1
read -r -a vsctl <<< "${OVS_VSCTL:-ovs-vsctl}"
TIMEOUT=10

up() {
  (
    # shellcheck disable=SC1090
    . "$1"
    if [[ ${DEVICETYPE:-} != ovs ]]; then
      if [[ ${TYPE:-} == OVS* ]]; then
        echo "ifup_ovs.sh: $1 has TYPE=$TYPE but no DEVICETYPE=ovs; ifup would not call ifup-ovs" >&2
        exit 1
      fi
      exit 0
    fi
    # shellcheck disable=SC2086
    case "$TYPE" in
      OVSBridge)
        "${vsctl[@]}" -t ${TIMEOUT} -- --may-exist add-br "$DEVICE" $OVS_OPTIONS ${OVS_EXTRA+-- $OVS_EXTRA} ;;
      OVSPort)
        "${vsctl[@]}" -t ${TIMEOUT} -- --may-exist add-port "$OVS_BRIDGE" "$DEVICE" $OVS_OPTIONS ${OVS_EXTRA+-- $OVS_EXTRA} ;;
      OVSIntPort)
        "${vsctl[@]}" -t ${TIMEOUT} -- --may-exist add-port "$OVS_BRIDGE" "$DEVICE" $OVS_OPTIONS -- set Interface "$DEVICE" type=internal ${OVS_EXTRA+-- $OVS_EXTRA} ;;
      OVSBond)
        "${vsctl[@]}" -t ${TIMEOUT} -- --may-exist add-bond "$OVS_BRIDGE" "$DEVICE" ${BOND_IFACES} $OVS_OPTIONS ${OVS_EXTRA+-- $OVS_EXTRA} ;;
      *)
        echo "ifup_ovs.sh: $1: invalid OVS interface type ${TYPE:-}" >&2
        exit 1 ;;
    esac
  )
}

for file in "$dir"/ifcfg-*; do
  if grep -qx 'TYPE=OVSBridge' "$file"; then up "$file"; fi
done
for file in "$dir"/ifcfg-*; do
  if ! grep -qx 'TYPE=OVSBridge' "$file"; then up "$file"; fi
done
