"""The capture script (`ovsgen capture-script`): a POSIX shell script an operator runs on a host,
read-only, that packs what import and drift read (its database dump, NICs, host network files
and libvirt networks) into one archive. The same text for every host: nothing in it comes from a
design."""

from __future__ import annotations

from generator import __version__
from generator.render.templating import template


def capture_script() -> str:
    return template("capture.sh.j2").render(version=__version__)
