"""The usage record of one transcript line, extracted by pydantic_core in Rust.

A first scan of gigabytes of transcripts spends most of its time turning assistant rows into records;
json.loads builds every content block as Python objects only for transcript.record_from_row to read ten
fields. Here one compiled validator parses the line and returns just those fields (~1.7x faster). It
takes only rows of the plain shape Claude Code writes (strict types, a message id or request id); any
other line raises ValueError and the caller hands it to the json path, which decides. So both paths give
the same records: tests/test_transcript_fast.py holds them to that.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from governor.transcript import UsageRecord, parse_timestamp


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
                "timestamp": _field(text),
                "sessionId": _field(text),
                "isSidechain": _field(flag, False),
                "isApiErrorMessage": _field(flag, False),
            }
        )
    )


_VALIDATOR = _build()


class NotPlain(ValueError):
    """A row this path leaves to the json path (no message id or request id: its key is a hash)."""


def record_from_line(line: bytes, project: str) -> UsageRecord | None:
    """transcript.record_from_row(json.loads(line), project) for a row of the plain shape; raises
    ValueError for any other line (the caller then takes the json path)."""
    return _record(_VALIDATOR.validate_json(line), project)


def _record(row: Any, project: str) -> UsageRecord | None:
    message = row["message"]
    if row["type"] != "assistant" or message is None or (usage := message["usage"]) is None:
        return None
    model = message["model"] or "unknown"
    if model == "<synthetic>" or row["isApiErrorMessage"]:
        return None
    if message["id"]:
        key = "m:" + message["id"]
    elif row["requestId"]:
        key = "r:" + row["requestId"]
    else:
        raise NotPlain("no message id or request id")
    split = usage["cache_creation"]
    # UsageRecord's fields without a call to its __new__ (a million rows on a first scan)
    return tuple.__new__(  # type: ignore[return-value]
        UsageRecord,
        (
            key,
            parse_timestamp(row["timestamp"]),
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
        ),
    )
