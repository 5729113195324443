"""The usage records of a block of transcript lines, decoded by msgspec.

A first scan of gigabytes of transcripts spends most of its time turning assistant rows into records;
json.loads builds every content block as Python objects only for transcript.record_from_row to read ten
fields. Here a typed msgspec decoder reads just those fields of each line, skipping the content without
building it, and one loop turns them into plain tuples (~3x faster than the json path). It takes only
rows of the plain shape Claude Code writes (strict types, a message id or request id); any other line
goes to the json path, which decides. So both paths give the same records:
tests/test_transcript_fast.py holds them to that.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from governor.meter.transcript import MAX_TOKENS, PROGRESS, check_text, parse_lines, parse_timestamp, usage_lines

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]

# The fields a record needs and nothing else: the decoder checks the rest of a line is JSON without
# building it. Strict types (no "5" for 5, no 7.0, no 0 for false); null where the json path reads null
# as absent. gc=False: short-lived, acyclic, a million of them on a first scan.


class _Split(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: Count = 0
    ephemeral_1h_input_tokens: Count = 0


class _Tools(msgspec.Struct, gc=False):
    web_search_requests: Count = 0


class _Usage(msgspec.Struct, gc=False):
    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_creation_input_tokens: Count = 0
    cache_read_input_tokens: Count = 0
    cache_creation: _Split | None = None
    server_tool_use: _Tools | None = None
    speed: str | None = None


class _Message(msgspec.Struct, gc=False):
    id: str | None = None
    role: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Row(msgspec.Struct, gc=False):
    type: str | None = None
    timestamp: str | None = None
    message: _Message | None = None
    requestId: str | None = None  # noqa: N815 (Claude Code's field names)
    sessionId: str | None = None  # noqa: N815
    requestSessionId: str | None = None  # noqa: N815
    isSidechain: bool = False  # noqa: N815
    isApiErrorMessage: bool = False  # noqa: N815


_DECODER = msgspec.json.Decoder(_Row)


def parse_block(block: bytes, project: str, cost_states: list[int] | None = None) -> tuple[list[tuple[Any, ...]], int]:
    """transcript.parse_block(block, project), in one loop (a first scan runs it a million times); records
    as plain tuples, but for the rare lines the json path reads."""
    records: list[tuple[Any, ...]] = []
    lines, bad = usage_lines(block, cost_states)
    decode = _DECODER.decode
    for line in lines:
        try:
            row = decode(line)
            message = row.message
            if message is None or (usage := message.usage) is None or (
                row.type != "assistant" and not (row.type is None and message.role == "assistant")
            ):
                if row.type in PROGRESS:
                    raise ValueError("a relayed subagent response: the json path reads it")
                continue
            model = message.model or "unknown"
            if model == "<synthetic>" or row.isApiErrorMessage:
                continue
            if message.id:
                key = "m:" + message.id
            elif row.requestId:
                key = "r:" + row.requestId
            else:
                raise ValueError("no message id or request id: the json path hashes a key")
            ts = parse_timestamp(row.timestamp)
            if usage.speed is not None and usage.speed != "standard":
                raise ValueError("fast mode (or a speed this path does not know): the json path decides")
            session = row.requestSessionId or row.sessionId or ""  # the session that made the request
            if not (key.isascii() and session.isascii() and model.isascii()):  # check_text's own test, inline
                check_text(key, session, model)
        except (ValueError, RecursionError):
            # msgspec.DecodeError too: not the plain shape, or not JSON, or nested too deep for msgspec:
            # the json path decides
            bad += parse_lines((line,), project, records)
            continue
        split = usage.cache_creation
        records.append(
            (
                key,
                ts,
                session,
                project,
                model,
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_creation_input_tokens,
                usage.cache_read_input_tokens,
                None if split is None else split.ephemeral_5m_input_tokens,
                None if split is None else split.ephemeral_1h_input_tokens,
                1 if row.isSidechain else 0,
                0 if usage.server_tool_use is None else usage.server_tool_use.web_search_requests,
            )
        )
    return records, bad
