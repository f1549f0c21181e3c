"""A capture folder (CAPTURE/<host>/, each made by `ovsgen capture-script`), read host by host:
the database dump, the NICs, the host network files and the libvirt networks.

A host is the folder's name. A host's files come from the host and are not trusted: the dump is
read by generator.ovs.hostdump (checked and located), the rest is only ever written into a design
that is validated again, or quoted in messages through `shown`. What cannot be read is a located
warning, never a crash.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from generator.adopt.host_files import Addressing, HostFile, addressing, backends_of, read_ifcfg, read_keyfile
from generator.adopt.libvirt_networks import CapturedNetwork, NetworkUnreadable, read_network
from generator.diagnostics import Diagnostic, Severity
from generator.ovs.hostdump import load_dump
from generator.ovs.state import OvsState
from generator.ovs.untrusted_text import shown

DUMP, NICS = "ovsdb.json", "nics.tsv"
IFCFG_FOLDER, KEYFILE_FOLDER, LIBVIRT_FOLDER = "network-scripts", "NetworkManager/system-connections", "libvirt"
# /sys/class/net/<nic>/speed in Mb/s, and the design language's name of it.
SPEEDS = {"1000": "1G", "10000": "10G", "25000": "25G", "40000": "40G", "50000": "50G", "100000": "100G"}
_MAX_FILE_BYTES = 1024 * 1024  # a network file or network XML bigger than this is not one


@dataclass(frozen=True)
class CapturedNic:
    name: str
    mac: str  # lower case, or ""
    speed: str | None  # the design language's speed, or None (unknown, or one it has not)
    megabits: str  # as the kernel said it ("-1" for a link that is down)
    line: int  # in nics.tsv


@dataclass(frozen=True)
class CapturedHost:
    name: str
    path: Path
    folder: str  # as messages name it
    state: OvsState
    nics: tuple[CapturedNic, ...]
    files: tuple[Addressing, ...]  # one per interface a network file configures
    backends: tuple[str, ...]  # whose Open vSwitch files the host has
    networks: tuple[CapturedNetwork, ...]
    libvirt: bool  # whether libvirt answered the capture (its folder is there, even empty)
    hostname: str
    problems: tuple[Diagnostic, ...]  # what could not be read

    def nic(self, name: str) -> CapturedNic | None:
        return next((nic for nic in self.nics if nic.name == name), None)

    def file_of(self, interface: str) -> Addressing | None:
        return next((found for found in self.files if found.interface == interface), None)

    def warning(self, file: str, line: int, message: str, column: int = 1) -> Diagnostic:
        """A located warning about one of this host's files (`file` relative to its folder)."""
        return Diagnostic(f"{self.folder}/{file}", line, column, (), message, Severity.WARNING)


def captured_hosts(capture: Path) -> dict[str, Path]:
    """The host folders of a capture folder: those holding a database dump, by name."""
    return {path.name: path for path in sorted(capture.iterdir()) if (path / DUMP).is_file()}


def load_host(folder: Path, shown_folder: str) -> CapturedHost:
    """One host's capture; the dump must be readable (DumpInvalid otherwise), the rest is warned about."""
    state = load_dump(folder / DUMP, f"{shown_folder}/{DUMP}")
    problems: list[Diagnostic] = []
    files = [*_files(folder, IFCFG_FOLDER, "ifcfg-*", shown_folder, problems)]
    files += _files(folder, KEYFILE_FOLDER, "*.nmconnection", shown_folder, problems)
    found = [item for item in (addressing(file) for file in files) if item is not None]
    return CapturedHost(
        name=folder.name,
        path=folder,
        folder=shown_folder,
        state=state,
        nics=tuple(_nics(folder / NICS, shown_folder, problems)),
        files=tuple(found),
        backends=backends_of(files),
        networks=tuple(_networks(folder / LIBVIRT_FOLDER, shown_folder, problems)),
        libvirt=(folder / LIBVIRT_FOLDER).is_dir(),
        hostname=_text(folder / "hostname").strip(),
        problems=tuple(problems),
    )


def _text(path: Path) -> str:
    return (_contents(path) or b"").decode(errors="replace")


def _contents(path: Path) -> bytes | None:
    """A regular file's bytes; None for what is not one, is over _MAX_FILE_BYTES or cannot be read.
    One open and one fstat: a fleet's capture has tens of thousands of files."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO put there must not hang import
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_size > _MAX_FILE_BYTES:
            return None
        return os.read(descriptor, status.st_size)  # what fstat said; a file still being written is cut there
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _nics(path: Path, shown_folder: str, problems: list[Diagnostic]) -> list[CapturedNic]:
    nics: list[CapturedNic] = []
    contents = _contents(path)
    if contents is None:
        message = f"no {NICS}: the host's NICs (names, speeds, MACs) are unknown; capture it again"
        problems.append(Diagnostic(f"{shown_folder}/{NICS}", 1, 1, (), message, Severity.WARNING))
        return nics
    for number, line in enumerate(contents.decode(errors="replace").splitlines(), start=1):
        fields = line.split("\t")
        if number == 1:
            continue  # the heading
        if len(fields) < 3 or not fields[0]:
            message = "not a line capture.sh writes (name, MAC, speed and driver, tab-separated): left out"
            problems.append(Diagnostic(f"{shown_folder}/{NICS}", number, 1, (), message, Severity.WARNING))
            continue
        name, mac, megabits = fields[0], fields[1].lower(), fields[2]
        nics.append(CapturedNic(name, mac, SPEEDS.get(megabits), megabits, number))
    return nics


def _files(folder: Path, where: str, pattern: str, shown_folder: str, problems: list[Diagnostic]) -> list[HostFile]:
    read = read_ifcfg if where == IFCFG_FOLDER else read_keyfile
    files = []
    for path in sorted((folder / where).glob(pattern)):
        name = f"{shown_folder}/{where}/{path.name}"
        contents = _contents(path)
        if contents is not None:
            files.append(read(contents.decode(errors="replace"), name))
        else:
            problems.append(Diagnostic(name, 1, 1, (), "not read: not a file, or over 1 MiB", Severity.WARNING))
    return files


def _networks(folder: Path, shown_folder: str, problems: list[Diagnostic]) -> list[CapturedNetwork]:
    networks = []
    for path in sorted(folder.glob("*.xml")):
        name = f"{shown_folder}/{LIBVIRT_FOLDER}/{path.name}"
        try:
            networks.append(replace(read_network(_contents(path) or b""), file=f"{LIBVIRT_FOLDER}/{path.name}"))
        except NetworkUnreadable as error:
            message = f"libvirt network not read: {shown(str(error), 200)}"
            problems.append(Diagnostic(name, error.line, 1, (), message, Severity.WARNING))
    return networks
