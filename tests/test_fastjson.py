"""governor.fastjson is json without the import: for any document, the same value or the same error, and
the same string out, as the json module gives."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governor import fastjson

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids,
                                                                                              max_size=4),
                         max_leaves=20)


def same(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and type(a) is type(b)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, (",", ":"), (", ", ": ")]), st.booleans(), st.booleans())
def test_dumps_and_loads_agree_with_json(doc: object, separators: tuple[str, str] | None, ascii_: bool,
                                         sort: bool) -> None:
    text = json.dumps(doc, separators=separators, ensure_ascii=ascii_, sort_keys=sort)
    assert fastjson.dumps(doc, separators=separators, ensure_ascii=ascii_, sort_keys=sort) == text
    assert same(fastjson.loads(text), json.loads(text))
    assert same(fastjson.loads(" \n" + text.encode().decode() + "\r\n\t"), doc if doc == doc else doc)
    assert same(fastjson.loads(text.encode("utf-8")), json.loads(text.encode("utf-8")))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30) | st.binary(max_size=30))
def test_any_input_gives_what_json_gives(data: str | bytes) -> None:
    try:
        expected: object = ("ok", json.dumps(json.loads(data), sort_keys=True))
    except Exception as exc:  # noqa: BLE001 - the very exception is what is compared
        expected = (type(exc), str(exc))
    try:
        got: object = ("ok", json.dumps(fastjson.loads(data), sort_keys=True))
    except Exception as exc:  # noqa: BLE001
        got = (type(exc), str(exc))
    assert got == expected


@pytest.mark.parametrize("text", [
    '{"a": 1} x', "", "   ", "\ufeff{}", '{"a": NaN, "b": -Infinity, "c": 1e400}', '[1, 2,]', '"\\ud800"',
    '{"a": "\x01"}', b'\xef\xbb\xbf{"a": 1}'.decode("latin-1"), "[" * 100_000,
])
def test_edge_cases_match_json(text: str) -> None:
    for data in (text, text.encode("utf-8", "surrogatepass")):
        try:
            expected: object = json.dumps(json.loads(data))
        except BaseException as exc:  # noqa: BLE001 - RecursionError included
            expected = (type(exc), str(exc))
        try:
            got: object = json.dumps(fastjson.loads(data))
        except BaseException as exc:  # noqa: BLE001
            got = (type(exc), str(exc))
        assert got == expected


def test_hooks_options_match_json() -> None:
    assert math.isnan(fastjson.loads("NaN"))
    calls: list[str] = []
    value = fastjson.loads('{"a": 1.5, "b": 2}', parse_float=lambda s: calls.append(s) or s,
                           parse_int=lambda s: calls.append(s) or s)
    assert value == {"a": "1.5", "b": "2"} and calls == ["1.5", "2"]
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        fastjson.dumps({"a": {1}})
    assert fastjson.dumps({"a": [1, 2]}) == json.dumps({"a": [1, 2]})  # no stale circular markers after a failure
    assert fastjson.dumps({"b": 1, "a": "é"}, indent=2, ensure_ascii=False) == json.dumps(
        {"b": 1, "a": "é"}, indent=2, ensure_ascii=False)


def test_importing_it_does_not_import_json() -> None:
    code = ("import sys; before = set(sys.modules); from governor import fastjson;"
            " fastjson.dumps(fastjson.loads(b'{\"a\": [1, 2.5, null]}'));"
            " print(sorted(m for m in ('json', 're', 'enum', 'typing') if m in set(sys.modules) - before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
