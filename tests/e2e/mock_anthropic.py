"""Loopback mock of the Anthropic Messages API, as Claude Code 2.1.328 uses it.

`POST /v1/messages[?beta=true]`: requests that carry `tools` get the scripted replies in order
(then the fallback text); requests without `tools` always get the fallback. Streaming replies follow
the real SSE sequence: message_start (placeholder output_tokens:1) -> ping -> per content block
start/delta/stop -> message_delta (stop_reason, final usage) -> message_stop. Every response carries
`request-id: req_...` and, when `rate_limits` is set, the `anthropic-ratelimit-unified-*` headers.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .mock_http import LoopbackMock, Recorded, Response, json_response


@dataclass
class Usage:
    input_tokens: int = 1234
    output_tokens: int = 56
    cache_read_input_tokens: int = 30000
    cache_creation_5m: int = 0
    cache_creation_1h: int = 2000
    service_tier: str = "standard"
    web_search_requests: int = 0  # usage.server_tool_use (a WebSearch tool request's reply)

    def as_dict(self, output_tokens: int | None = None) -> dict[str, Any]:
        searches = self.web_search_requests
        tools = {"server_tool_use": {"web_search_requests": searches}} if searches else {}
        return {
            **tools,
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_5m + self.cache_creation_1h,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_5m,
                "ephemeral_1h_input_tokens": self.cache_creation_1h,
            },
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
            "service_tier": self.service_tier,
        }


@dataclass
class Text:
    text: str


@dataclass
class ToolUse:
    name: str
    input: dict[str, Any]


@dataclass
class Thinking:
    thinking: str
    signature: str = "sig-mock"


Block = Text | ToolUse | Thinking


@dataclass
class Reply:
    blocks: list[Block]
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None  # default: "tool_use" if any ToolUse block, else "end_turn"
    # A stream that stops until mock.resume is set (or the client aborts): "before_first_block" after
    # message_start + ping (the input is billed, no content yet), "before_message_start" before any event.
    stall: str = ""


@dataclass
class ErrorReply:
    """An API error: status + error envelope + `x-should-retry: false`."""

    status: int = 429
    type: str = "rate_limit_error"
    message: str = "mock rate limit"


@dataclass
class RateLimits:
    """`anthropic-ratelimit-unified-*` headers: utilization as fractions, resets as epoch seconds."""

    five_hour: float = 0.42
    seven_day: float = 0.17
    five_hour_reset: int = field(default_factory=lambda: int(time.time()) + 3 * 3600)
    seven_day_reset: int = field(default_factory=lambda: int(time.time()) + 4 * 86400)
    status: str = "allowed"

    def headers(self) -> dict[str, str]:
        p = "anthropic-ratelimit-unified-"
        return {
            p + "status": self.status,
            p + "reset": str(self.five_hour_reset),
            p + "representative-claim": "five_hour",
            p + "5h-utilization": repr(self.five_hour),
            p + "5h-reset": str(self.five_hour_reset),
            p + "5h-status": self.status,
            p + "7d-utilization": repr(self.seven_day),
            p + "7d-reset": str(self.seven_day_reset),
            p + "7d-status": "allowed",
        }


def text_reply(text: str, usage: Usage | None = None) -> Reply:
    return Reply([Text(text)], usage or Usage())


def tool_reply(
    name: str, tool_input: dict[str, Any], text: str | None = None, usage: Usage | None = None
) -> Reply:
    """An assistant turn that calls one tool (optionally preceded by a text block)."""
    blocks: list[Block] = [Text(text)] if text else []
    return Reply([*blocks, ToolUse(name, tool_input)], usage or Usage())


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class AnthropicMock(LoopbackMock):
    def __init__(self, fallback: Reply | None = None) -> None:
        super().__init__()
        self.script: list[Reply | ErrorReply] = []
        self.fallback: Reply = fallback or text_reply("MOCK: nothing scripted")
        self.rate_limits: RateLimits | None = None
        self.served: list[tuple[Recorded, Reply | ErrorReply]] = []
        self.side: dict[str, list[Reply | ErrorReply]] = {}  # marker -> script of the agent whose task has it
        self.stalled = threading.Event()  # set while a `stall` reply waits before its first content block
        self.resume = threading.Event()
        self._n = 0

    # -- scripting ---------------------------------------------------------------------------
    def queue(self, *replies: Reply | ErrorReply) -> AnthropicMock:
        with self.lock:
            self.script.extend(replies)
        return self

    def queue_for(self, marker: str, *replies: Reply | ErrorReply) -> AnthropicMock:
        """Replies for the requests whose first message contains `marker` (a sub-agent's task), so a
        background agent running alongside the main loop gets its own script, whatever the interleaving."""
        with self.lock:
            self.side.setdefault(marker, []).extend(replies)
        return self

    def _script_for(self, body: dict[str, Any]) -> list[Reply | ErrorReply]:
        messages = body.get("messages") or []
        first = json.dumps(messages[0]) if messages else ""
        return next((script for marker, script in self.side.items() if marker in first), self.script)

    def messages(self) -> list[dict[str, Any]]:
        """Parsed bodies of every /v1/messages request, in arrival order."""
        return [
            r.json() for r in self.requests if r.method == "POST" and r.path.split("?")[0] == "/v1/messages"
        ]

    def served_replies(self) -> list[Reply]:
        return [reply for _, reply in self.served if isinstance(reply, Reply)]

    # -- routing -----------------------------------------------------------------------------
    def route(self, rec: Recorded) -> Response:
        if rec.method == "POST" and rec.path.split("?")[0] == "/v1/messages":
            body = rec.json() or {}
            with self.lock:
                self._n += 1
                n = self._n
                script = self._script_for(body)
                reply = script.pop(0) if body.get("tools") and script else self.fallback
                self.served.append((rec, reply))
            headers = {
                "request-id": f"req_mock{n:06d}",
                **(self.rate_limits.headers() if self.rate_limits else {}),
            }
            if isinstance(reply, ErrorReply):
                error = {"type": "error", "error": {"type": reply.type, "message": reply.message}}
                return json_response(reply.status, error, {**headers, "x-should-retry": "false"})
            model = str(body.get("model") or "claude-opus-5-5")
            message = self._message(n, model, reply)
            if body.get("stream"):
                stream = self._stream(message, reply)
                head = {"": None, "before_message_start": 0,
                        "before_first_block": stream.index(b"event: content_block_start")}[reply.stall]
                return Response(200, stream, headers, "text/event-stream; charset=utf-8", head,
                                self.resume if reply.stall else None, self.stalled if reply.stall else None)
            return json_response(200, message, headers)
        return self.not_found(rec)

    def _message(self, n: int, model: str, reply: Reply) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        for i, block in enumerate(reply.blocks):
            if isinstance(block, Text):
                content.append({"type": "text", "text": block.text})
            elif isinstance(block, ToolUse):
                content.append(
                    {
                        "type": "tool_use",
                        "id": f"toolu_mock{n:06d}{i:02d}",
                        "name": block.name,
                        "input": block.input,
                    }
                )
            else:
                content.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature})
        stop = reply.stop_reason or (
            "tool_use" if any(isinstance(b, ToolUse) for b in reply.blocks) else "end_turn"
        )
        return {
            "id": f"msg_mock{n:06d}{int(time.time() * 1000) % 0xFFFFFF:06x}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": reply.usage.as_dict(),
        }

    @staticmethod
    def _stream(message: dict[str, Any], reply: Reply) -> bytes:
        start = {**message, "content": [], "stop_reason": None, "usage": reply.usage.as_dict(output_tokens=1)}
        out = [
            sse("message_start", {"type": "message_start", "message": start}),
            sse("ping", {"type": "ping"}),
        ]
        for i, block in enumerate(message["content"]):
            if block["type"] == "text":
                empty: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": part} for part in _split(block["text"])]
            elif block["type"] == "tool_use":
                empty = {**block, "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": part}
                    for part in _split(json.dumps(block["input"]))
                ]
            else:
                empty = {"type": "thinking", "thinking": "", "signature": ""}
                deltas = [
                    {"type": "thinking_delta", "thinking": block["thinking"]},
                    {"type": "signature_delta", "signature": block["signature"]},
                ]
            out.append(
                sse(
                    "content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}
                )
            )
            out += [
                sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
                for d in deltas
            ]
            out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        out.append(
            sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": message["usage"],
                },
            )
        )
        out.append(sse("message_stop", {"type": "message_stop"}))
        return b"".join(out)


def _split(text: str, parts: int = 3) -> list[str]:
    """Cut a string into up to `parts` non-empty chunks, as a real stream would deliver it."""
    if len(text) < parts:
        return [text]
    size = -(-len(text) // parts)
    return [text[i : i + size] for i in range(0, len(text), size)]
