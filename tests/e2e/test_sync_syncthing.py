"""Several machines through a real sync engine: two Syncthing instances (Debian's `syncthing`) on loopback,
each with its own home, replicate one folder between two governor machines (own GOVERNOR_HOME and
transcript root), and both machines' `daily --json` converge to the union.

Each instance is configured by the test: a static tcp://127.0.0.1:PORT address for its peer, listening
on 127.0.0.1 only, with global and local discovery, relays, NAT traversal (and so STUN), usage reporting,
crash reporting and upgrades off; the test checks every socket either process holds is on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync_machines import Machine, truth

pytestmark = pytest.mark.e2e

SYNCTHING = shutil.which("syncthing")
FOLDER = "governor-sync"
CONVERGE_S = 45


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    def __init__(self, home: Path, folder: Path) -> None:
        self.home, self.folder = home, folder
        self.gui, self.listen = _free_port(), _free_port()
        self.apikey = "governor-test-" + os.urandom(8).hex()
        self.proc: subprocess.Popen[bytes] | None = None
        assert SYNCTHING is not None
        subprocess.run([SYNCTHING, "generate", "--home", str(home), "--no-default-folder", "--skip-port-probing"],
                       check=True, capture_output=True, timeout=30)
        out = subprocess.run([SYNCTHING, "serve", "--home", str(home), "--device-id"], check=True,
                             capture_output=True, text=True, timeout=30)
        self.device = out.stdout.strip()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".stfolder").mkdir(exist_ok=True)

    def configure(self, peer: Instance) -> None:
        path = self.home / "config.xml"
        tree = ET.parse(path)
        root = tree.getroot()
        gui = root.find("gui")
        assert gui is not None
        gui.find("address").text = f"127.0.0.1:{self.gui}"  # type: ignore[union-attr]
        gui.find("apikey").text = self.apikey  # type: ignore[union-attr]
        options = root.find("options")
        assert options is not None
        settings = {
            "listenAddress": f"tcp://127.0.0.1:{self.listen}",
            "globalAnnounceEnabled": "false", "localAnnounceEnabled": "false", "relaysEnabled": "false",
            "natEnabled": "false", "urAccepted": "-1", "urSeen": "3", "crashReportingEnabled": "false",
            "autoUpgradeIntervalH": "0", "startBrowser": "false", "announceLANAddresses": "false",
            "stunKeepaliveStartS": "0", "stunKeepaliveMinS": "0", "reconnectionIntervalS": "1",
        }
        for key, value in settings.items():
            node = options.find(key)
            if node is None:
                node = ET.SubElement(options, key)
            node.text = value
        for node in options.findall("globalAnnounceServer") + options.findall("stunServer"):
            options.remove(node)
        device = ET.SubElement(root, "device", id=peer.device, name="peer", compression="metadata",
                               introducer="false")
        ET.SubElement(device, "address").text = f"tcp://127.0.0.1:{peer.listen}"
        folder = ET.SubElement(root, "folder", id=FOLDER, label=FOLDER, path=str(self.folder), type="sendreceive",
                               rescanIntervalS="1", fsWatcherEnabled="true", fsWatcherDelayS="1")
        ET.SubElement(folder, "device", id=self.device)
        ET.SubElement(folder, "device", id=peer.device)
        tree.write(path)

    def start(self, log: Path) -> None:
        assert SYNCTHING is not None
        env = {**os.environ, "STNOUPGRADE": "1", "STNORESTART": "1", "STNODEFAULTFOLDER": "1",
               "HOME": str(self.home)}
        self.proc = subprocess.Popen([SYNCTHING, "serve", "--home", str(self.home), "--no-browser", "--no-restart",
                                      "--no-upgrade", f"--logfile={log}"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rest(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"http://127.0.0.1:{self.gui}{path}", method=method,
                                         headers={"X-API-Key": self.apikey})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
        with opener.open(request, timeout=5) as response:
            body = response.read()
        return json.loads(body) if body.strip() else None

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if self.rest("GET", "/rest/system/ping") == {"ping": "pong"}:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("syncthing did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (syncthing serve runs a monitor process and the syncthing child)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sorted(tree)


def _sockets(pid: int) -> list[tuple[str, str, str]]:
    """(protocol, local address, remote address) of every inet socket `pid` or a child holds, from /proc."""
    inodes = set()
    for member in _tree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{member}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    out = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        with open(f"/proc/{pid}/net/{proto}") as fh:
            for line in fh.readlines()[1:]:
                parts = line.split()
                if parts[9] in inodes:
                    out.append((proto, parts[1], parts[2]))
    return out


def _loopback(address: str) -> bool:
    host = address.split(":")[0]
    if len(host) == 8:  # IPv4, little-endian hex
        return host in ("0100007F",) or host.endswith("7F")
    return host in ("00000000000000000000000001000000",) or host.startswith("0000000000000000FFFF0000") and \
        host.endswith("7F")


def _unset(address: str) -> bool:
    return set(address.split(":")[0]) == {"0"} and set(address.split(":")[1]) == {"0"}


@pytest.fixture()
def syncthing_pair(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    if SYNCTHING is None:
        pytest.skip("syncthing is not installed (apt-get install syncthing; .ci/run installs it)")
    a = Instance(tmp_path / "st-a", tmp_path / "laptop-Sync")
    b = Instance(tmp_path / "st-b", tmp_path / "desktop-Sync")
    a.configure(b)
    b.configure(a)
    try:
        a.start(tmp_path / "st-a.log")
        b.start(tmp_path / "st-b.log")
        deadline = time.monotonic() + 20
        a.wait_ready(deadline)
        b.wait_ready(deadline)
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_two_machines_converge_through_syncthing(tmp_path: Path, syncthing_pair: tuple[Instance, Instance]) -> None:
    st_a, st_b = syncthing_pair
    laptop, desktop = Machine(tmp_path, "laptop"), Machine(tmp_path, "desktop")
    laptop.write_session("s-lap", 12, day=23)
    desktop.write_session("s-desk", 7, day=24)
    laptop.cli("sync", "init", str(st_a.folder), "--name", "laptop")
    desktop.cli("sync", "init", str(st_b.folder), "--name", "desktop")
    union = truth(tmp_path, laptop.projects, desktop.projects)
    assert union["totals"]["output_tokens"] == sum(50 + i for n in (12, 7) for i in range(n))

    deadline = time.monotonic() + CONVERGE_S
    seen: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline:
        for st in (st_a, st_b):
            st.rest("POST", f"/rest/db/scan?folder={FOLDER}")
        time.sleep(1)
        seen = {m.name: m.daily() for m in (laptop, desktop)}
        if all(d["days"] == union["days"] and d["totals"] == union["totals"] for d in seen.values()):
            break
    for name, daily in seen.items():
        assert daily["days"] == union["days"], name
        assert daily["totals"] == union["totals"], name

    # a second round: new usage on one machine reaches the other by the same route
    received = next((st_b.folder / "governor" / laptop.machine_id()).glob("????-??.jsonl"))
    inode = received.stat().st_ino
    laptop.write_session("s-lap2", 4, day=25)
    union = truth(tmp_path, laptop.projects, desktop.projects)
    laptop.daily()
    deadline = time.monotonic() + CONVERGE_S
    while time.monotonic() < deadline:
        st_a.rest("POST", f"/rest/db/scan?folder={FOLDER}")
        time.sleep(1)
        if desktop.daily()["totals"] == union["totals"]:
            break
    assert desktop.daily()["totals"] == union["totals"]
    assert received.stat().st_ino != inode  # Syncthing replaced the file: desktop's cursor read it anew
    split = desktop.cli("daily", "--tz", "UTC").stdout.rstrip().splitlines()[-1]
    assert split.startswith("by machine: desktop (this) ") and " · laptop " in split

    for st in (st_a, st_b):  # nothing bound or connected outside loopback
        assert st.proc is not None
        held = _sockets(st.proc.pid)
        assert any(proto.startswith("tcp") for proto, _l, _r in held), held  # the peer link and the GUI
        for proto, local, remote in held:
            assert _loopback(local), (proto, local, remote)
            assert _loopback(remote) or _unset(remote), (proto, local, remote)
