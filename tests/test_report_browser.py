"""The report in a real browser: headless Chromium, networking off (every host resolves to nothing, a fresh
profile), loads the file; the rendered DOM shows every figure drew all of its traces and no script failed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.test_report import embedded, generated_ledger

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")


def offline_dom(html: Path, profile: Path) -> str:
    proc = subprocess.run(
        [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--disable-background-networking", "--virtual-time-budget=15000", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def assert_every_figure_drew(html_path: Path, tmp_path: Path) -> None:
    _data, figs = embedded(html_path.read_text())
    dom = offline_dom(html_path, tmp_path / "profile")
    errors = re.search(r'<pre id="governor-errors">(.*?)</pre>', dom, re.S)
    assert errors is not None and errors[1] == ""
    drawn = dict(re.findall(r'id="fig-(\w+)"[^>]*data-rendered="(\d+)"', dom))
    assert drawn == {key: str(len(fig["data"])) for key, fig in figs.items()}, json.dumps(drawn)
    assert all(int(n) > 0 for n in drawn.values())


def test_generated_report_renders_offline(tmp_path: Path) -> None:
    generated_ledger()
    out = tmp_path / "r.html"
    assert run_cli("report", "--html", str(out)).returncode == 0
    assert_every_figure_drew(out, tmp_path)


def test_demo_report_renders_offline(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    assert run_cli("demo", "--report", str(out)).returncode == 0
    assert_every_figure_drew(out, tmp_path)


def test_a_broken_figure_is_reported_in_the_dom(tmp_path: Path) -> None:
    """The check above can fail: a figure whose JSON does not parse leaves an error and no drawing."""
    generated_ledger()
    out = tmp_path / "r.html"
    assert run_cli("report", "--html", str(out)).returncode == 0
    html = out.read_text()
    broken = re.sub(r'(data-key="sessions">)\{', r"\1{oops", html, count=1)
    assert broken != html
    out.write_text(broken)
    dom = offline_dom(out, tmp_path / "profile")
    assert re.search(r'<pre id="governor-errors">error: sessions: SyntaxError', dom)
    assert not re.search(r'id="fig-sessions"[^>]*data-rendered', dom)
    assert re.search(r'id="fig-week"[^>]*data-rendered="8"', dom)
