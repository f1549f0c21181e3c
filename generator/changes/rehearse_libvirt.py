"""The libvirt side of a rehearsal: libvirt-change.sh and libvirt-rollback.sh of a plan between
designs, run on libvirt's test driver (test:///default) from the old design's networks, and the
networks compared with those the new design's define.sh builds. Nothing touches the host's
libvirt.
"""

from __future__ import annotations

import difflib
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from generator.changes.node_changes import NodeChange
from generator.changes.rehearse_report import Report, Step
from generator.design.validate import ValidDesign
from generator.render.files import OutputFile
from generator.render.kinds import render_design

LIBVIRT_URI = "test:///default"

# VIRSH for the scripts a rehearsal runs (rehearse writes it, headed by the `virsh` and
# `state` it uses). libvirt's test driver forgets everything when its connection closes,
# so this keeps the networks in a folder (state/networks/<name>/: the stored definition
# and files marking it persistent, active, autostart) and the virsh commands that rebuild
# them (state/batch, after those in state/reset that remove the driver's own networks).
# Every call runs that batch and then its own command in one connection; a command that
# changes a network, once it succeeded, updates the folder. The stored definition is
# libvirt's form of what was defined, read in a connection of its own: the test driver
# shows an active network's old definition after a redefinition, and refuses
# `net-dumpxml --inactive` (answered here with the stored definition).
_VIRSH_STAND_IN = r"""
set -euo pipefail
shopt -s nullglob
batch=$(<"$state/batch")

# Write state/batch again from the folder.
rebuild() {
  local dir name text
  text=$(<"$state/reset")
  for dir in "$state"/networks/*/; do
    name=${dir%/}
    name=${name##*/}
    if [[ -e $dir/persistent ]]; then
      printf -v text '%snet-define --file %q; ' "$text" "${dir}definition.xml"
      if [[ -e $dir/autostart ]]; then
        printf -v text '%snet-autostart --network %q; ' "$text" "$name"
      fi
      if [[ -e $dir/active ]]; then
        printf -v text '%snet-start --network %q; ' "$text" "$name"
      fi
    else
      printf -v text '%snet-create --file %q; ' "$text" "${dir}definition.xml"
    fi
  done
  printf '%s' "$text" > "$state/batch"
}

# The word after option $1 in the rest, else the rest's last word that is no option.
argument() {
  local option=$1 previous='' word
  found=''
  shift
  for word in "$@"; do
    if [[ $previous == "$option" ]]; then
      found=$word
      return 0
    fi
    [[ $word == --* ]] || found=$word
    previous=$word
  done
}

# Keep libvirt's form of definition file $2, made with $1 (net-define or net-create), in $dir.
keep() {
  local name reset
  name=$(sed -n 's|^ *<name>\(.*\)</name> *$|\1|p' "$2" | head -n 1)
  if [[ -z $name || $name == */* || $name == .* ]]; then
    echo "rehearsal virsh: cannot keep a network named '$name'" >&2
    exit 1
  fi
  dir=$state/networks/$name
  mkdir -p "$dir"
  reset=$(<"$state/reset")
  printf -v reset '%s%s --file %q; net-dumpxml --network %q' "$reset" "$1" "$2" "$name"
  "${virsh[@]}" "$reset" > "$dir/new.xml"
  mv -f "$dir/new.xml" "$dir/definition.xml"
}

command=''
for word in "$@"; do
  if [[ ${1:-} == net-dumpxml && $word == --inactive ]]; then
    continue
  fi
  printf -v command '%s%q ' "$command" "$word"
done
case ${1:-} in
  net-define|net-create|net-start|net-destroy|net-undefine|net-autostart) ;;
  *) exec "${virsh[@]}" "$batch$command" ;;
esac
"${virsh[@]}" "$batch$command" || exit
argument --network "${@:2}"
dir=$state/networks/$found
case $1 in
  net-define)
    argument --file "${@:2}"
    keep net-define "$found"
    touch "$dir/persistent" ;;
  net-create)
    argument --file "${@:2}"
    keep net-create "$found"
    touch "$dir/active" ;;
  net-start) touch "$dir/active" ;;
  net-destroy)
    rm -f "$dir/active"
    [[ -e $dir/persistent ]] || rm -rf "$dir" ;;
  net-undefine)
    rm -f "$dir/persistent" "$dir/autostart"
    [[ -e $dir/active ]] || rm -rf "$dir" ;;
  *)
    if [[ " $* " == *" --disable "* ]]; then rm -f "$dir/autostart"; else touch "$dir/autostart"; fi ;;
esac
rebuild
"""


@dataclass(frozen=True)
class Network:
    """A libvirt network as a rehearsal compares it: its definition without UUID and MAC
    (libvirt makes them up), and whether it is persistent, active and autostarted."""

    definition: str
    flags: tuple[tuple[str, str], ...]


class LibvirtTestDriver:
    """libvirt's test driver whose networks outlive each virsh call (see _VIRSH_STAND_IN)."""

    def __init__(self, folder: Path, virsh: str) -> None:
        self.folder, self.real = folder, virsh
        self.state = folder / "state"
        self.command = folder / "virsh"

    def start(self) -> None:
        """An empty driver: the networks test:///default starts with are removed on every call."""
        self.state.mkdir(parents=True)  # the stand-in keeps networks in state/networks/, made as needed
        every = self._real("net-list --all --name").split()
        active = set(self._real("net-list --name").split())
        reset = [f"net-destroy --network {shlex.quote(name)}; " for name in every if name in active]
        reset += [f"net-undefine --network {shlex.quote(name)}; " for name in every]
        (self.state / "reset").write_text("".join(reset))
        (self.state / "batch").write_text("".join(reset))
        head = (
            f"#!/bin/bash\nvirsh=({shlex.quote(self.real)} -q -c {LIBVIRT_URI})\nstate={shlex.quote(str(self.state))}\n"
        )
        self.command.write_text(head + _VIRSH_STAND_IN)
        self.command.chmod(0o755)

    def _real(self, batch: str) -> str:
        command = [self.real, "-q", "-c", LIBVIRT_URI, batch]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def query(self, *args: str) -> str:
        return subprocess.run([str(self.command), *args], capture_output=True, text=True, check=True).stdout

    def networks(self) -> dict[str, Network]:
        found = {}
        for name in self.query("net-list", "--all", "--name").split():
            info = self.query("net-info", "--network", name)
            fields = [[part.strip() for part in line.split(":")] for line in info.splitlines()]
            kept = tuple((key, rest[-1]) for key, *rest in fields if key in ("Active", "Persistent", "Autostart"))
            found[name] = Network(_normalised(self.query("net-dumpxml", "--network", name)), kept)
        return found


def _normalised(xml: str) -> str:
    """A network definition without what libvirt makes up (UUID, MAC), laid out one way."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    for made_up in list(root.iter("uuid", "mac")):
        parent = made_up.getparent()
        if parent is not None:
            parent.remove(made_up)
    return etree.tostring(root, encoding=str, pretty_print=True)


@dataclass(frozen=True)
class LibvirtPlan:
    """A node's plan files, the folder the libvirt rehearsal writes them to, and the environment scripts run in."""

    files: list[OutputFile]
    folder: Path
    environment: dict[str, str]


def rehearse_networks(
    report: Report, change: NodeChange, old: ValidDesign | None, new: ValidDesign, plan: LibvirtPlan
) -> None:
    """libvirt-change.sh and libvirt-rollback.sh on the test driver, from the old design's networks."""
    if not change.networks:
        return
    if old is None:
        report.steps.append(Step("libvirt not rehearsed: a dump does not hold libvirt networks", True))
        return
    virsh = shutil.which("virsh")
    if virsh is None:
        report.steps.append(Step("libvirt not rehearsed: virsh is missing", False))
        return
    reference = LibvirtTestDriver(plan.folder / "reference", virsh)
    built = _define_design(reference, new, change.node, plan)
    if built is not None and not built.passed:
        report.steps.append(Step("build the new design's networks on libvirt's test driver", False, built.details))
        return
    driver = LibvirtTestDriver(plan.folder / "rehearsal", virsh)
    step = _define_design(driver, old, change.node, plan)
    if step is not None:
        report.steps.append(step.titled("build the starting networks with the old design's define.sh"))
        if not step.passed:
            return
    starting = driver.networks()
    for file in plan.files:
        _write(plan.folder / "plan", file)
    scripts = {file.name: plan.folder / "plan" / file.path for file in plan.files}
    report.steps.append(_run_virsh_script(scripts["libvirt-change.sh"], driver, plan))
    report.steps.append(_same_networks("libvirt holds the new design's networks", reference.networks(), driver))
    if "libvirt-rollback.sh" not in scripts:
        report.steps.append(Step("libvirt rollback not rehearsed: the plan has no libvirt-rollback.sh", False))
        return
    report.steps.append(_run_virsh_script(scripts["libvirt-rollback.sh"], driver, plan))
    report.steps.append(_same_networks("libvirt is back to the starting networks", starting, driver))


def _write(folder: Path, file: OutputFile) -> Path:
    path = folder / file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(file.text)
    return path


def _define_design(driver: LibvirtTestDriver, valid: ValidDesign, node: str, plan: LibvirtPlan) -> Step | None:
    """Start `driver` with `valid`'s networks for `node`, by the design's own define.sh."""
    driver.start()
    if not any(layout.node.name == node for layout in valid.layouts):
        return None
    files = render_design(valid, [node], ["libvirt"])
    paths = [_write(driver.folder, file) for file in files]  # beside state/ and virsh: <node>/libvirt/...
    (script,) = [path for path in paths if path.name == "define.sh"]
    return _run_virsh_script(script, driver, plan)


def _run_virsh_script(script: Path, driver: LibvirtTestDriver, plan: LibvirtPlan) -> Step:
    result = subprocess.run(
        ["bash", str(script), "--apply"],
        capture_output=True,
        text=True,
        env={**plan.environment, "VIRSH": str(driver.command)},
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    return Step(f"{script.name} --apply", result.returncode == 0, "" if result.returncode == 0 else output)


def _same_networks(title: str, expected: dict[str, Network], driver: LibvirtTestDriver) -> Step:
    actual = driver.networks()
    found = []
    for name in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(name), actual.get(name)
        if have is None:
            found.append(f"network {name}: expected, not defined")
        elif want is None:
            found.append(f"network {name}: defined, not expected")
        else:
            found += [
                f"network {name} {key}: expected {value}, libvirt {dict(have.flags).get(key, 'unknown')}"
                for key, value in want.flags
                if dict(have.flags).get(key) != value
            ]
            if want.definition != have.definition:
                found.append(f"network {name}: its definition differs")
                lines = difflib.unified_diff(
                    want.definition.splitlines(), have.definition.splitlines(), "expected", "libvirt", lineterm="", n=1
                )
                found += [f"  {line}" for line in lines]
    return Step(title, not found, "\n".join(found))
