"""The rendered build sheets: CSV, HTML, SVG, index, and a real browser printing the page."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from lxml import etree, html

from tests.conftest import rendered_files, require_tool, run

SVG = "{http://www.w3.org/2000/svg}"


def test_csv_parses_back_to_one_row_per_cabled_nic(rendered_tree: Path) -> None:
    text = (rendered_tree / "lacp-storage/build-sheet.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    lacp = "LACP active, rate fast"
    channel = (
        "all ports of br0-up (ens1f0, ens1f1) in one LACP port-channel (across two switches: one MLAG/vPC port-channel)"
    )
    common = {
        "speed": "25G",
        "bridge": "br0",
        "bond": "br0-up",
        "mode": "trunk",
        "native_vlan": "none (all traffic tagged)",
        "allowed_vlans": "10, 20, 100-102",
        "lacp": lacp,
        "mtu": "9000",
        "port_channel": channel,
    }
    assert rows == [
        {"node": "kvm-s-1", "nic": "ens1f0", "mac": "b8:59:9f:10:00:01", "switch_port": "leaf-1 Eth1/1", **common},
        {"node": "kvm-s-1", "nic": "ens1f1", "mac": "b8:59:9f:10:00:02", "switch_port": "leaf-2 Eth1/1", **common},
        {"node": "kvm-s-2", "nic": "ens1f0", "mac": "b8:59:9f:10:00:11", "switch_port": "leaf-1 Eth1/2", **common},
        {"node": "kvm-s-2", "nic": "ens1f1", "mac": "b8:59:9f:10:00:12", "switch_port": "leaf-2 Eth1/2", **common},
    ]


def test_csv_leaves_unused_nics_out(rendered_tree: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((rendered_tree / "ahv-host/build-sheet.csv").read_text())))
    assert [(row["node"], row["nic"], row["native_vlan"], row["allowed_vlans"]) for row in rows] == [
        ("ahv-a-1", "eth2", "untagged: host, VM-Network", "32"),
        ("ahv-a-1", "eth3", "untagged: host, VM-Network", "32"),
    ]


def sheet_paths(tree: Path, name: str) -> list[Path]:
    return sorted(tree.glob(f"*/*/{name}"))


def test_html_sheets_parse_and_are_self_contained(rendered_tree: Path) -> None:
    for path in sheet_paths(rendered_tree, "build-sheet.html"):
        document = html.parse(str(path)).getroot()
        assert document.findtext("head/title").startswith("Build sheet: "), path
        assert document.find("body//svg") is not None, path
        external = [
            value
            for element in document.iter()
            if isinstance(element.tag, str)
            for attribute in ("src", "href", "xlink:href", "data")
            if (value := element.get(attribute))
        ]
        assert external == [], path
        assert document.findall(".//script") == [], path
        assert document.findall(".//link") == [], path
        assert "@media print" in document.findtext("head/style"), path


def test_svg_names_every_nic_bond_and_bridge(rendered_tree: Path) -> None:
    expected = {
        "ahv-host/ahv-a-1": ["eth0", "eth1", "eth2", "eth3", "bond0", "br0", "host 10.59.31.77/23", "network vlan32"],
        "lacp-storage/kvm-s-2": ["ens1f0", "ens1f1", "br0-up", "br0", "storage0 172.16.20.22/24", "portgroup tenant/"],
        "two-tier-cluster/kvm-a-3": ["eno1", "eno2", "ens1f0", "ens1f1", "br0-up", "br1-up", "br0", "br1"],
        "edge-cases/edge-1": ["ens2f0 25G", "mgmt-bond", "br-stor", "backup0 192.168.50.11/24", "host DHCP"],
    }
    for node, names in expected.items():
        root = etree.parse(str(rendered_tree / node / "wiring.svg")).getroot()
        assert root.tag == f"{SVG}svg"
        texts = [text.text for text in root.iter(f"{SVG}text")]
        for name in names:
            assert any(text.startswith(name) for text in texts), (node, name)


def test_every_sheet_embeds_its_diagram(rendered_tree: Path) -> None:
    for path in sheet_paths(rendered_tree, "build-sheet.md"):
        assert "](wiring.svg)" in path.read_text(), path
        assert (path.parent / "wiring.svg").exists()


def test_index_links_every_node(rendered_tree: Path) -> None:
    index = (rendered_tree / "two-tier-cluster/index.md").read_text()
    for node in ("kvm-a-1", "kvm-a-2", "kvm-a-3"):
        assert f"[{node}]({node}/build-sheet.md)" in index
        assert f"([printable]({node}/build-sheet.html))" in index
    assert "| br1 | 2x1G balance-slb | br1-up | 1500 | VLANs 32 |" in index


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing may leave the machine: no name resolves, so no connection is ever opened.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


UPLINK_FORMS = """\
version: 1
name: uplink-words
host: {bridge: br0, gateway: 10.0.0.1}
bridges:
  br0: {uplinks: {nics: 10G, mode: balance-slb}}
  br1: {uplinks: {nics: 1G, count: 2, mode: active-backup}}
  br2: {uplinks: {nics: [eth6, eth7, eth8], mode: balance-tcp, lacp: active}}
  br3: {uplinks: {nics: 25G, count: 1}}
  br4: {uplinks: {nics: [eth12]}}
  br5: {uplinks: 2x40G balance-tcp}
nodes:
  - name: n1
    address: 10.0.0.11/24
    nics: {eth0: 10G, eth1: 10G, eth2: 1G, eth3: 1G, eth6: 25G, eth7: 25G, eth8: 25G, eth9: 25G,
           eth10: 40G, eth11: 40G, eth12: 100G}
"""


def test_index_says_each_form_of_uplinks_in_words(tmp_path: Path) -> None:
    """A speed selector without a count reads `all 10G NICs`, not `allx10G`; as GitHub shows the index."""
    import cmarkgfm  # type: ignore[import-not-found,import-untyped,unused-ignore]  # the test extra has it

    design = tmp_path / "uplinks.yaml"
    design.write_text(UPLINK_FORMS)
    index = next(file for file in rendered_files(design) if file.path == "uplink-words/index.md")
    page = html.fromstring(cmarkgfm.github_flavored_markdown_to_html(index.text))
    bridges = next(table for table in page.iter("table") if table.findtext("thead/tr/th") == "Bridge")
    rows = {row[0].text_content(): row[1].text_content() for row in bridges.iterfind("tbody/tr")}
    assert rows == {
        "br0": "all 10G NICs, balance-slb",
        "br1": "2 1G NICs, active-backup",
        "br2": "eth6, eth7 and eth8, balance-tcp, LACP active",
        "br3": "1 25G NIC",  # one NIC is a plain port: no bond mode
        "br4": "eth12",
        "br5": "2x40G balance-tcp",  # the shorthand as written
    }


def chromium_run(page: Path, output: str, tmp_path: Path) -> list[str]:
    """Run headless Chromium on a page; return the URLs the page itself asked for."""
    chromium = require_tool("chromium")
    netlog = tmp_path / f"netlog-{len(list(tmp_path.glob('netlog-*')))}.json"
    with tempfile.TemporaryDirectory() as profile:
        result = run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--log-net-log={netlog}",
                *output.split(),
                page.as_uri(),
            ],
            timeout=120,
            env={**os.environ, "HOME": str(tmp_path)},
        )
    assert result.returncode == 0, result.stderr
    return page_requests(netlog)


def page_requests(netlog: Path) -> list[str]:
    """URLs requested on behalf of a document, from Chromium's net log.

    Chromium's own background requests carry the initiator "not an origin";
    a page's requests carry the page's origin ("null" for file:// pages).
    """
    text = netlog.read_text().rstrip()
    if not text.endswith("}"):  # Chromium may exit before closing the JSON
        text = text.rstrip(",") + "]}"
    log = json.loads(text)
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job and event.get("params", {}).get("initiator", "not an origin") != "not an origin"
    ]


@pytest.mark.consumer
def test_chromium_renders_and_prints_the_sheet_offline(rendered_tree: Path, tmp_path: Path) -> None:
    page = rendered_tree / "lacp-storage/kvm-s-1/build-sheet.html"
    screenshot, pdf = tmp_path / "sheet.png", tmp_path / "sheet.pdf"
    requested = chromium_run(page, f"--screenshot={screenshot} --window-size=1100,1600", tmp_path)
    requested += chromium_run(page, f"--print-to-pdf={pdf} --no-pdf-header-footer", tmp_path)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 20_000
    assert requested == []


@pytest.mark.consumer
def test_the_request_check_sees_a_page_that_fetches(rendered_tree: Path, tmp_path: Path) -> None:
    """Control: the same check on a sheet with an external image reports that image."""
    page = tmp_path / "fetching.html"
    original = (rendered_tree / "lacp-storage/kvm-s-1/build-sheet.html").read_text()
    page.write_text(original.replace("<body>", '<body><img src="http://ovsgen-test.invalid/x.png">'))
    assert chromium_run(page, f"--screenshot={tmp_path / 'x.png'}", tmp_path) == ["http://ovsgen-test.invalid/x.png"]
