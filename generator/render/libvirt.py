"""libvirt network XML (built with lxml) and the define.sh that installs it (docs/outputs.md).

Also the libvirt layer of change plans (restored_folder, start_state, plan_script).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from lxml import etree

from generator.design.model import InternalNetwork, Network, Portgroup
from generator.render.context import NodeContext
from generator.render.files import OutputFile
from generator.render.templating import template

FOLDER = "libvirt"


def render_libvirt(context: NodeContext) -> list[OutputFile]:
    """The node's libvirt network XML files and the define.sh that installs them."""
    design, header = context.design, context.header
    folder = f"{context.folder}/{FOLDER}"
    files = [
        OutputFile(f"{folder}/{network.name}.xml", _xml(header, _ovs_network_xml(network)))
        for network in design.networks
    ]
    files += [
        OutputFile(f"{folder}/{network.name}.xml", _xml(header, _internal_network_xml(network)))
        for network in design.internal_networks
    ]
    names = [network.name for network in design.networks] + [network.name for network in design.internal_networks]
    purpose = (
        f"Defines the libvirt networks of node {context.name} from the XML files beside this",
        "script, marks them autostart and starts those not running. Safe to run again.",
    )
    script = virsh_script(header=header, script="define.sh", purpose=purpose, networks=names)
    files.append(OutputFile(f"{folder}/define.sh", script, executable=True))
    return files


def virsh_script(
    *,
    header: str,
    script: str,
    purpose: Sequence[str],
    networks: Sequence[str],
    removed: Sequence[str] = (),
    xml_folder: str = "",
) -> str:
    """A define.sh-style script: undefine `removed`, then define `networks` from <xml_folder>/<name>.xml."""
    return template("define.sh.j2").render(
        header=header, script=script, purpose=purpose, networks=networks, removed=removed, xml_folder=xml_folder
    )


def restored_folder(backup: str) -> str:
    """Where a plan's rollback script moves the backup it restored from (`x.backup` -> `x.restored`)."""
    return f"{backup.removesuffix('.backup')}.restored"


def start_state(rollback: bool, change_script: str) -> str:
    """The state a plan's script starts from, in its messages: a rollback starts where the change ends."""
    return f"the state after {change_script}" if rollback else "the starting state"


def plan_script(
    *,
    header: str,
    script: str,
    node: str,
    hostname: str,
    rollback: bool,
    host_known: bool,
    steps: Sequence[tuple[str, str, str]],
    folders: dict[str, str],
) -> str:
    """libvirt-change.sh or libvirt-rollback.sh of a plan (templates/libvirt-plan.sh.j2).

    `steps`: per network its name, its definition before and after the script: a file of the
    plan, folders["absent"] (not defined) or folders["unknown"] (not known: from a dump).
    `folders`: "new", "old" and "backup" (beside the script), "absent" and "unknown". A
    rollback that restored the backup moves it beside it (restored_folder).
    """
    return template("libvirt-plan.sh.j2").render(
        header=header,
        script=script,
        node=node,
        hostname=hostname,
        rollback=rollback,
        host_known=host_known,
        start_state=start_state(rollback, "libvirt-change.sh"),
        restored=restored_folder(folders["backup"]),
        names=[name for name, _, _ in steps],
        starts=[start for _, start, _ in steps],
        targets=[target for _, _, target in steps],
        **folders,
    )


def _xml(header: str, body: str) -> str:
    return etree.tostring(etree.Comment(f" {header} "), encoding="unicode") + "\n" + body


# Every node of a design has the same networks: each one's XML is built once per process.
@functools.lru_cache(maxsize=256)
def _ovs_network_xml(network: Network) -> str:
    return etree.tostring(_ovs_network(network), encoding="unicode", pretty_print=True)


@functools.lru_cache(maxsize=256)
def _internal_network_xml(network: InternalNetwork) -> str:
    return etree.tostring(_internal_network(network), encoding="unicode", pretty_print=True)


def _ovs_network(network: Network) -> etree._Element:
    root = etree.Element("network")
    etree.SubElement(root, "name").text = network.name
    etree.SubElement(root, "forward", mode="bridge")
    etree.SubElement(root, "bridge", name=network.bridge)
    etree.SubElement(root, "virtualport", type="openvswitch")
    if network.vlan is not None:
        vlan = etree.SubElement(root, "vlan")
        etree.SubElement(vlan, "tag", id=str(network.vlan))
    for group in network.portgroups:
        root.append(_portgroup(group))
    return root


def _portgroup(group: Portgroup) -> etree._Element:
    element = etree.Element("portgroup", name=group.name)
    if group.default:
        element.set("default", "yes")
    if group.trunk:
        vlan = etree.SubElement(element, "vlan", trunk="yes")
        for tag in group.trunk:
            tag_element = etree.SubElement(vlan, "tag", id=str(tag))
            if tag == group.native:
                tag_element.set("nativeMode", "untagged")
    elif group.vlan is not None:
        vlan = etree.SubElement(element, "vlan")
        etree.SubElement(vlan, "tag", id=str(group.vlan))
    return element


def _internal_network(network: InternalNetwork) -> etree._Element:
    root = etree.Element("network")
    etree.SubElement(root, "name").text = network.name
    etree.SubElement(root, "bridge", name=network.bridge, stp="off", delay="0")
    etree.SubElement(root, "ip", address=str(network.address.ip), netmask=str(network.address.netmask))
    return root
