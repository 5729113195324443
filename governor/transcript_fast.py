"""The usage records of a block of transcript lines, extracted by pydantic_core in Rust.

A first scan of gigabytes of transcripts spends most of its time turning assistant rows into records;
json.loads builds every content block as Python objects only for transcript.record_from_row to read ten
fields. Here one compiled validator parses each line and returns just those fields, and one loop turns
them into plain tuples (~1.9x faster than the json path). It takes only rows of the plain shape Claude
Code writes (strict types, a message id or request id, a canonical UTC timestamp); any other line goes to
the json path, which decides. So both paths give the same records: tests/test_transcript_fast.py holds
them to that.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from governor.transcript import _HOURS, Malformed, epoch_hour, record_from_line, usage_lines

# JavaScript's toISOString, the form Claude Code writes: the loop below reads its digits by position.
# ASCII digits only ([0-9], not \d, which is any script's digits in Rust's regex).
CANONICAL_STAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$"


def _field(schema: Any, default: Any = None) -> Any:
    return cs.typed_dict_field(cs.with_default_schema(schema, default=default))


def _object(fields: dict[str, Any]) -> Any:
    return cs.typed_dict_schema(fields, extra_behavior="ignore")


def _build() -> SchemaValidator:
    text = cs.str_schema(strict=True)
    flag = cs.bool_schema(strict=True)
    count = cs.int_schema(strict=True, ge=0)
    split = _object({"ephemeral_5m_input_tokens": _field(count, 0), "ephemeral_1h_input_tokens": _field(count, 0)})
    usage = _object(
        {
            "input_tokens": _field(count, 0),
            "output_tokens": _field(count, 0),
            "cache_creation_input_tokens": _field(count, 0),
            "cache_read_input_tokens": _field(count, 0),
            "cache_creation": _field(cs.nullable_schema(split)),
        }
    )
    message = _object({"id": _field(text), "model": _field(text), "usage": _field(cs.nullable_schema(usage))})
    return SchemaValidator(
        _object(
            {
                "type": _field(text),
                "message": _field(cs.nullable_schema(message)),
                "requestId": _field(text),
                # required: a row without one is the json path's to judge
                "timestamp": cs.typed_dict_field(cs.str_schema(strict=True, pattern=CANONICAL_STAMP), required=True),
                "sessionId": _field(text),
                "isSidechain": _field(flag, False),
                "isApiErrorMessage": _field(flag, False),
            }
        )
    )


_VALIDATOR = _build()


def parse_block(block: bytes, project: str) -> tuple[list[tuple[Any, ...]], int]:
    """transcript.parse_block(block, project) with plain tuples for records. One loop, no call per row: a
    first scan runs it a million times."""
    records: list[tuple[Any, ...]] = []
    lines, bad = usage_lines(block)
    validate, hours = _VALIDATOR.validate_json, _HOURS
    for line in lines:
        try:
            row = validate(line)
            message = row["message"]
            if row["type"] != "assistant" or message is None or (usage := message["usage"]) is None:
                continue
            model = message["model"] or "unknown"
            if model == "<synthetic>" or row["isApiErrorMessage"]:
                continue
            if message["id"]:
                key = "m:" + message["id"]
            elif row["requestId"]:
                key = "r:" + row["requestId"]
            else:
                raise ValueError("no message id or request id: the json path hashes a key")
        except ValueError:  # not the plain shape, or not JSON: the json path decides
            try:
                record = record_from_line(line, project)
            except (ValueError, UnicodeDecodeError, RecursionError):
                bad += 1
            else:
                if record is not None:
                    records.append(tuple(record))
            continue
        stamp = row["timestamp"]
        hour = hours.get(stamp[:13])
        if hour is None:
            try:
                hour = epoch_hour(stamp[:13])
            except Malformed:  # a month 13 or an hour 24: no such time
                bad += 1
                continue
        split = usage["cache_creation"]
        records.append(
            (
                key,
                # the float transcript.parse_timestamp gives: exact milliseconds divided once
                (hour * 1000 + int(stamp[14:16]) * 60_000 + int(stamp[17:19] + stamp[20:23])) / 1000,
                row["sessionId"] or "",
                project,
                model,
                usage["input_tokens"],
                usage["output_tokens"],
                usage["cache_creation_input_tokens"],
                usage["cache_read_input_tokens"],
                None if split is None else split["ephemeral_5m_input_tokens"],
                None if split is None else split["ephemeral_1h_input_tokens"],
                1 if row["isSidechain"] else 0,
            )
        )
    return records, bad
