"""The memory cap's rules: hypothesis properties over markdown lines and files, the seed's case,
load-limit measurement, and the locked apply on real files."""

from __future__ import annotations

import os
import re
import stat
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from governor.guards.memory_file import apply_cap, archive_path
from governor.policy.memory_cap import ELLIPSIS, cap_text, load_status, protected_lines, safe_truncate, utf16_len

LINK = re.compile(r"!?\[[^\[\]]*\]\([^()]*\)")
ARCHIVE_ENTRY = re.compile(r"^## \S+ · (?P<name>.+) line (?P<line>\d+)\n\n(?P<text>.*)\n\n", re.M)

words = st.text(alphabet=st.sampled_from("abcdefghij klmnopé—😀#*`_-.:/"), min_size=1, max_size=30)
urls = st.text(alphabet=st.sampled_from("abcxyz/.-_#?=0123456789"), min_size=1, max_size=60)
links = st.builds(lambda bang, t, u: f"{bang}[{t}]({u})", st.sampled_from(["", "!"]), words, urls)
parens = st.builds(lambda t: f"({t})", words)
strays = st.sampled_from(["a)", "1) step", "[x", ":)", "(see", "]", "C:\\dir"])
tokens = st.one_of(words, words, words, links, links, parens, strays, urls)


@st.composite
def md_lines(draw: st.DrawFn) -> str:
    """A markdown line that does not start with a bracket (a line that does may have no clean cut)."""
    lead = draw(st.sampled_from(["- ", "* ", "", "  - ", "1. ", "x"]))
    sep = draw(st.sampled_from([" ", " ", " ", "", "  "]))
    body = sep.join(draw(st.lists(tokens, min_size=1, max_size=80)))
    line = (lead + body).replace("\n", " ").replace("\r", " ")
    return line if line[:1] not in ("[", "(", "!") else "x" + line


caps = st.integers(min_value=12, max_value=400)


def archived(path: str) -> dict[int, str]:
    with open(archive_path(path), encoding="utf-8") as fh:
        return {int(m["line"]): m["text"] for m in ARCHIVE_ENTRY.finditer(fh.read())}


@given(md_lines(), caps)
def test_every_output_fits_and_is_a_marked_prefix(line: str, cap: int) -> None:
    out = safe_truncate(line, cap)
    assert len(out) <= cap + 2  # the acceptance bound; our rule actually keeps within cap
    assert len(out) <= cap
    if len(line) <= cap:
        assert out == line
    else:
        assert out.endswith(ELLIPSIS)
        assert line.startswith(out[: -len(ELLIPSIS)])


@given(md_lines(), caps)
def test_links_are_kept_whole_or_dropped_whole(line: str, cap: int) -> None:
    out = safe_truncate(line, cap)
    if out == line:
        return
    kept = len(out) - len(ELLIPSIS)
    for m in LINK.finditer(line):
        assert kept <= m.start() or kept >= m.end(), (m.group(), out)


@given(md_lines(), caps)
def test_truncation_is_idempotent(line: str, cap: int) -> None:
    once = safe_truncate(line, cap)
    assert safe_truncate(once, cap) == once


def test_cut_lands_on_the_last_space_before_the_cap() -> None:
    line = "alpha beta gamma delta epsilon zeta"
    assert safe_truncate(line, 20) == "alpha beta gamma …"


def test_link_straddling_the_cap_is_dropped_whole() -> None:
    line = "- see [the pacing notes for the week](notes/pacing-week.md) and more words after it"
    out = safe_truncate(line, 40)
    assert out == "- see …"


def test_stray_brackets_do_not_eat_the_whole_line() -> None:
    line = "Steps: a) fetch b) parse c) store :) then " + "word " * 40
    out = safe_truncate(line, 60)
    assert len(out) > 40 and out.startswith("Steps: a) fetch b) parse")


def test_line_without_spaces_is_cut_hard() -> None:
    line = "x" * 500
    assert safe_truncate(line, 350) == "x" * 348 + ELLIPSIS


def test_hard_cut_still_avoids_a_link_when_it_can() -> None:
    line = "prefix" + "[" + "y" * 400 + "](u)"
    assert safe_truncate(line, 100) == "prefix" + ELLIPSIS


def test_hard_cut_never_separates_link_text_from_its_url() -> None:
    assert safe_truncate("x[ab](" + "c" * 200 + ")", 50) == "x" + ELLIPSIS
    assert safe_truncate("x![ab](" + "c" * 200 + ")", 50) == "x" + ELLIPSIS  # an image's ! goes too


def test_line_that_is_one_giant_link_is_cut_hard_at_the_cap() -> None:
    line = "[" + "y" * 400 + "](u)"  # no cut can keep it whole: the cap wins
    out = safe_truncate(line, 100)
    assert len(out) == 100 and out.endswith(ELLIPSIS)


def test_seed_975_character_entry() -> None:
    head = (
        "- [Budget governor](budget-governor.md) — weighted proxy (output x5, cache write x1.25, cache read "
        "x0.1) scaled per model (opus 1.0, sonnet 0.6, haiku 0.2); see [pacing bands](pacing.md#bands) and "
        "[dedup rule](ledger.md#dedup). Warn-only above 1.0x projected, hard clamp only at 95% actual. "
    )
    straddling = "[calibration against the official /usage figure](calibration.md#anchor)"
    head = head.ljust(320 - 1) + " " + straddling + " "  # this link runs across the 350 cap
    filler = "Codex takes bounded implementation work (see [router](router.md)); Claude keeps review. "
    entry = (head + filler * 10)[:975]
    assert len(entry) == 975 and entry.index(straddling) < 348 < entry.index(straddling) + len(straddling)
    text = "# Memory index\n\n" + entry + "\n- [Short entry](short.md) — fine\n"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "MEMORY.md")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        applied = apply_cap(path, 350)
        with open(path, encoding="utf-8") as fh:
            new = fh.read().split("\n")
        assert [c.line_no for c in applied.changes] == [3]
        assert len(new) == len(text.split("\n"))
        assert len(new[2]) <= 352 and new[2].endswith(" …")
        assert new[0] == "# Memory index" and new[3] == "- [Short entry](short.md) — fine"
        for m in LINK.finditer(entry):
            assert m.end() <= len(new[2]) - 2 or m.start() >= len(new[2]) - 2
        assert archived(path) == {3: entry}


fence_body = st.lists(st.one_of(md_lines(), st.just("")), max_size=4)


@st.composite
def md_files(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["---", "description: " + draw(md_lines()), "---"]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["text", "text", "fence", "blank"]))
        if kind == "fence":
            marker = draw(st.sampled_from(["```", "~~~", "````", "```python"]))
            lines += [marker, *draw(fence_body), marker.rstrip("python")]
        elif kind == "blank":
            lines.append("")
        else:
            lines.append(draw(md_lines()))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    final = draw(st.booleans())
    return eol.join(lines) + (eol if final and lines else "")


def _endings(text: str) -> list[str]:
    return re.findall(r"\r?\n", text)


@given(md_files(), caps)
def test_file_cap_keeps_structure_and_is_idempotent(text: str, cap: int) -> None:
    new, changes = cap_text(text, cap)
    assert _endings(new) == _endings(text)
    assert new.endswith("\n") == text.endswith("\n")
    old_lines, new_lines = re.split(r"\r?\n", text), re.split(r"\r?\n", new)
    assert len(new_lines) == len(old_lines)
    protected = protected_lines(old_lines)
    for i, (old, out) in enumerate(zip(old_lines, new_lines, strict=True)):
        if protected[i]:
            assert out == old  # fenced blocks and front matter untouched
        else:
            assert out == safe_truncate(old, cap)
    differ = {i + 1 for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b}
    assert {c.line_no for c in changes} == differ
    assert cap_text(new, cap) == (new, [])


def test_fenced_and_front_matter_lines_are_never_capped() -> None:
    long = "word " * 100
    text = f"---\ntitle: {long}\n---\n{long}\n```bash\n{long}\n```\n~~~\n{long}\n~~~\n{long}\n"
    new, changes = cap_text(text, 50)
    assert [c.line_no for c in changes] == [4, 11]
    lines = new.split("\n")
    assert lines[1] == f"title: {long}" and lines[5] == long and lines[8] == long


def test_unclosed_fence_protects_the_rest_of_the_file() -> None:
    long = "word " * 100
    new, changes = cap_text(f"{long}\n```\n{long}\n{long}\n", 50)
    assert [c.line_no for c in changes] == [1]
    assert new.split("\n")[2:4] == [long, long]


@settings(max_examples=60, deadline=None)
@given(md_files(), caps)
def test_apply_keeps_everything_recoverable(text: str, cap: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "MEMORY.md")
        with open(path, "wb") as fh:
            fh.write(text.encode("utf-8"))
        applied = apply_cap(path, cap, now=1_800_000_000)
        with open(path, "rb") as fh:
            new = fh.read().decode("utf-8")
        old_lines, new_lines = re.split(r"\r?\n", text), re.split(r"\r?\n", new)
        store = archived(path) if applied.changes else {}
        assert set(store) == {c.line_no for c in applied.changes}
        for i, (old, out) in enumerate(zip(old_lines, new_lines, strict=True)):
            if old != out:  # original = kept + archived
                assert store[i + 1] == old
                assert old.startswith(out[: -len(ELLIPSIS)])
        again = apply_cap(path, cap)
        assert again.changes == []
        with open(path, "rb") as fh:
            assert fh.read().decode("utf-8") == new


def test_apply_keeps_mode_endings_and_final_newline() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "MEMORY.md")
        with open(path, "wb") as fh:
            fh.write(b"# index\r\n" + ("- entry " * 60).encode() + b"\r\nlast line")
        os.chmod(path, 0o640)
        apply_cap(path, 100)
        with open(path, "rb") as fh:
            data = fh.read()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
        assert data.count(b"\r\n") == 2 and data.endswith(b"last line")
        assert stat.S_IMODE(os.stat(archive_path(path)).st_mode) == 0o640


def test_non_utf8_file_is_left_alone() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "MEMORY.md")
        data = b"\xff\xfe" + b"word " * 200
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            apply_cap(path, 100)
        except UnicodeDecodeError:
            pass
        with open(path, "rb") as fh:
            assert fh.read() == data
        assert not os.path.exists(archive_path(path))


def test_load_limit_is_200_lines() -> None:
    assert not load_status("x\n" * 200).over
    status = load_status("x\n" * 201)
    assert status.over and status.lines == 201 and status.loaded_lines == 200 and status.not_loaded_lines == 1


def test_load_limit_counts_utf16_units_astral_twice() -> None:
    assert utf16_len("a😀é") == 4
    fits = "😀" * 12_500  # 25,000 UTF-16 units, 12,500 Python characters
    assert not load_status(fits).over and load_status(fits).units == 25_000
    status = load_status("a\n" + fits)  # 2 + 25,000 units: the second line no longer fits
    assert status.over and status.loaded_lines == 1 and status.not_loaded_lines == 1
    assert status.not_loaded_units == 25_001  # the newline before it and the line itself


def test_load_limit_cuts_at_the_last_whole_line_within_25000_units() -> None:
    text = "".join("y" * 99 + "\n" for _ in range(150))  # 150 lines, 15,000 units
    assert not load_status(text).over
    status = load_status(text * 2)  # 300 lines; the 200-line cut comes first (20,000 units)
    assert status.loaded_lines == 200 and status.not_loaded_lines == 100
    wide = "".join("z" * 199 + "\n" for _ in range(150))  # 30,000 units in 150 lines
    status = load_status(wide)
    assert status.loaded_lines == 125 and status.loaded_units == 125 * 200 - 1
