"""The first scan's fast parser gives exactly the records of the json path, or leaves the line to it."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from governor.meter import transcript, transcript_fast
from governor.meter.transcript import Malformed, parse_block, parse_timestamp, record_from_row
from tests.helpers import assistant_row, jsonl, user_row

# Values a field might hold in a transcript written by some other version, or damaged: the right type,
# the wrong type, null, absent (None in the mapping below means "drop the key").
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(2**62, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["false", "true", "0", "1", "no", "off", "5", "-1", "1.5"]),  # what lax parsers coerce
    st.sampled_from([0.0, 1.0, 2.5]),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "input_tokens"]), st.integers(0, 5), max_size=2),
)
COUNT = st.one_of(st.integers(0, 2_000_000), ODD)
STAMP = st.one_of(
    st.sampled_from(["2026-11-23T14:39:23.766Z", "2026-11-23T14:39:23Z", "2026-11-23T14:39:23.766+00:00",
                     "2026-11-23T14:39:23.766", "2026-11-23T14:60:23.766Z", "2026-02-29T10:00:00.000Z",
                     "2026-11-23 14:39:23.766Z", "2026-11-23T14:39:2a.766Z", ""]),
    ODD,
)


@st.composite
def rows(draw: st.DrawFn) -> Any:
    """Rows near Claude Code's shape, any field of which may be odd, missing or of the wrong type."""
    row: dict[str, Any] = assistant_row(
        message_id=draw(st.sampled_from(["msg_01", "msg_02", ""])),
        request_id=draw(st.sampled_from(["req_01", ""])),
        timestamp="2026-11-23T14:39:23.766Z",
        model=draw(st.sampled_from(["claude-opus-4-5-20251101", "<synthetic>", "claude-sonnet-4-5", ""])),
        output_tokens=draw(st.integers(0, 5000)),
        cache_1h=draw(st.one_of(st.none(), st.integers(0, 1000))),
    )
    message, usage = row["message"], row["message"]["usage"]
    places: list[tuple[dict[str, Any], str, st.SearchStrategy[Any]]] = [
        (row, "type", st.one_of(st.sampled_from(["assistant", "user", "system"]), ODD)),
        (row, "timestamp", STAMP),
        (row, "sessionId", st.one_of(st.sampled_from(["s1", ""]), ODD)),
        (row, "requestId", st.one_of(st.just("req_01"), ODD)),
        (row, "isSidechain", ODD),
        (row, "isApiErrorMessage", ODD),
        (row, "message", st.one_of(st.just(message), ODD)),
        (message, "id", st.one_of(st.just("msg_01"), ODD)),
        (message, "model", st.one_of(st.just("claude-haiku-4-5"), ODD)),
        (message, "usage", st.one_of(st.just(usage), ODD)),
        (usage, "input_tokens", COUNT),
        (usage, "output_tokens", COUNT),
        (usage, "cache_creation_input_tokens", COUNT),
        (usage, "cache_read_input_tokens", COUNT),
        (usage, "cache_creation", st.one_of(st.none(), ODD, st.fixed_dictionaries(
            {"ephemeral_5m_input_tokens": COUNT, "ephemeral_1h_input_tokens": COUNT}))),
    ]
    for i in draw(st.lists(st.integers(0, len(places) - 1), max_size=4, unique=True)):
        holder, key, values = places[i]
        if draw(st.booleans()):
            holder.pop(key, None)
        else:
            holder[key] = draw(values)
    return row


def json_path(line: bytes) -> object:
    """What the json path makes of a line: its record, None, or Malformed."""
    try:
        return record_from_row(json.loads(line), "proj")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Malformed


def fast_path(block: bytes) -> tuple[list[transcript.UsageRecord], int]:
    """transcript_fast.parse_block's answer, its tuples as records."""
    records, bad = transcript_fast.parse_block(block, "proj")
    return [transcript.UsageRecord(*r) for r in records], bad


@settings(max_examples=600, deadline=None)
@given(row=rows())
def test_the_fast_path_gives_the_json_paths_record(row: Any) -> None:
    line = json.dumps(row).encode()
    expected = json_path(line)
    if expected is Malformed:
        assert fast_path(line) == ([], 1)
    else:
        assert fast_path(line) == ([expected] if expected is not None else [], 0)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.one_of(rows().map(lambda r: json.dumps(r).encode()),
                                st.sampled_from([b"{not json", b"\x00\xff junk", b"", b"  ", b'{"usage": 1',
                                                 b'{"a": "\xed\xa0\x80", "usage": {}}', b'[1, "usage"]']),
                                st.binary(max_size=20)), max_size=12))
@example(lines=[b'{"type": "user", "timestamp": "2026-11-23T14:39:23.766Z", "message": {"id": "m1", "model": "x",'
                b' "usage": {"output_tokens": 5, "output_tokens": 9}}, "type": "assistant"}'])  # repeated keys
def test_a_block_parses_the_same_with_and_without_the_fast_path(lines: list[bytes]) -> None:
    block = b"\n".join(lines)
    assert fast_path(block) == parse_block(block, "proj")


def test_json_only_forms_fall_back_and_keep_their_meaning() -> None:
    """Forms msgspec refuses but json.loads reads (a BOM, float counts, no id) keep the json path's
    answer through parse_block. (A lone surrogate in an id is malformed on both: tests/test_poison_lines.py.)"""
    plain = assistant_row(output_tokens=7)
    float_counts = assistant_row(output_tokens=7)
    float_counts["message"]["usage"]["output_tokens"] = 7.0
    lines = [
        b"\xef\xbb\xbf" + json.dumps(plain).encode(),
        json.dumps(float_counts).encode(),
        json.dumps(assistant_row(message_id=None, request_id=None)).encode(),  # hashed key: json path
    ]
    for line in lines:
        records, bad = fast_path(line)
        assert (records, bad) == parse_block(line, "proj")
        assert bad == 0 and len(records) == 1


def test_infinite_or_nan_token_counts_are_malformed_not_a_crash() -> None:
    for text in ("1e400", "NaN", "-Infinity"):
        line = jsonl([assistant_row(output_tokens=123456)]).replace("123456", text).encode()
        assert parse_block(line, "proj") == fast_path(line) == ([], 1)


def test_lines_are_split_and_junk_counted_as_before() -> None:
    good = jsonl([user_row(), assistant_row(output_tokens=9)]).encode()
    block = b"\n\n  \n" + good + b"garbage\n{torn" + b"\r\n" + good.replace(b"\n", b"\r\n")
    records, bad = fast_path(block)
    assert (records, bad) == parse_block(block, "proj")
    assert [r.output for r in records] == [9, 9]
    assert bad == 2


def general_and_parsed(text: str) -> tuple[object, object]:
    """(the general path's time for `text`, parse_timestamp's), each Malformed when it refuses it."""
    try:
        expected: object = transcript._parse_iso(text)
    except Malformed:
        expected = Malformed
    try:
        got: object = parse_timestamp(text)
    except Malformed:
        got = Malformed
    return expected, got


@settings(max_examples=400, deadline=None)
@given(
    day=st.dates(),
    hour=st.one_of(st.integers(0, 23), st.sampled_from([23, 24, 25])),
    minute=st.one_of(st.integers(0, 59), st.sampled_from([59, 60, 61])),
    second=st.one_of(st.integers(0, 59), st.sampled_from([59, 60, 61])),
    ms=st.integers(0, 999),
    sep=st.sampled_from("TT t:"),
    tail=st.sampled_from(["Z", "Z", "z", "+00:00"]),
)
@example(datetime.date(2026, 11, 19), 23, 60, 44, 646, "T", "Z")
@example(datetime.date(2026, 11, 19), 23, 52, 60, 646, "T", "Z")
@example(datetime.date(2026, 11, 19), 24, 52, 44, 646, "T", "Z")
def test_the_timestamp_shortcut_equals_datetime(day, hour, minute, second, ms, sep, tail) -> None:  # type: ignore[no-untyped-def]
    text = f"{day.isoformat()}{sep}{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}{tail}"
    expected, got = general_and_parsed(text)
    assert got == expected
    assert not (isinstance(got, float) and math.isnan(got))
    line = json.dumps(assistant_row(timestamp=text)).encode()  # the fast parser reads digits by position
    assert fast_path(line) == parse_block(line, "proj")


@settings(max_examples=400, deadline=None)
@given(st.builds(
    lambda edits: "".join({**dict(enumerate("2026-11-19T23:52:44.646")), **dict(edits)}.values()),
    st.lists(st.tuples(st.integers(0, 22), st.sampled_from("0123456789-:.+ TtWZz\u0660")), max_size=4),
))
@example("2026-11-19T23:52:44.646Z"[:23])
@example("2026-W47-4T23:52:44.646Z"[:23])
@example(" 2026-11-19T23:52:44.64Z"[:23])
@example("2026-11-19T23:52:44+0100Z"[:23])
def test_any_24_character_time_ending_in_z_parses_as_the_general_path_does(head: str) -> None:
    """parse_timestamp hands a 24-character "...Z" to datetime's parser first: whatever that accepts must
    be the time the general path (_parse_iso) gives, and whatever it refuses goes there."""
    text = head + "Z"
    expected, got = general_and_parsed(text)
    assert got == expected, text


def test_rows_of_claude_codes_plain_shape_never_reach_the_json_path(monkeypatch: Any) -> None:
    """The speed of a first scan rests on this: a plain row (ids, canonical timestamp, split or not) is
    read by the validator alone."""
    block = jsonl([user_row(), assistant_row(output_tokens=9), assistant_row(message_id="msg_2", cache_1h=40),
                   assistant_row(message_id="msg_3", model="<synthetic>")]).encode()
    expected = parse_block(block, "proj")

    def refuse(lines: Any, project: str, into: list[Any]) -> int:
        raise AssertionError(f"json path asked for {list(lines)[0][:60]!r}")

    monkeypatch.setattr(transcript_fast, "parse_lines", refuse)
    assert fast_path(block) == expected
    assert len(expected[0]) == 2
