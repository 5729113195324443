"""Loopback mock of the OpenAI Responses API, as Codex CLI 0.169.0 uses it (custom provider).

`POST /v1/responses` (stream:true): requests that carry `tools` get the scripted replies in order, then
the fallback message. SSE as `event: <type>` + `data: <json>`: response.created ->
response.output_item.done (an assistant message or an `exec_command` function_call) ->
response.completed (with usage). `rate_limits` adds the `x-codex-*` headers Codex copies into the
rollout's `token_count.rate_limits`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .mock_http import LoopbackMock, Recorded, Response, json_response


@dataclass
class CodexUsage:
    input_tokens: int = 1000
    cached_tokens: int = 250
    output_tokens: int = 125
    reasoning_tokens: int = 75

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": self.cached_tokens},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.input_tokens + self.output_tokens,
        }


@dataclass
class Message:
    text: str
    usage: CodexUsage = field(default_factory=CodexUsage)


@dataclass
class ExecCommand:
    """A `function_call` of Codex's `exec_command` tool: Codex really runs `cmd` and posts the output."""

    cmd: str
    usage: CodexUsage = field(default_factory=CodexUsage)


@dataclass
class CodexError:
    status: int = 500
    body: dict[str, Any] = field(
        default_factory=lambda: {"error": {"type": "server_error", "message": "mock"}}
    )
    headers: dict[str, str] = field(default_factory=dict)


CodexReply = Message | ExecCommand | CodexError


@dataclass
class CodexRateLimits:
    """`x-codex-*` headers: percentages 0-100, window lengths in minutes, resets as epoch seconds."""

    primary: float = 42.5
    secondary: float = 13.0
    primary_window: int = 300
    secondary_window: int = 10080
    primary_reset: int = field(default_factory=lambda: int(time.time()) + 4 * 3600)
    secondary_reset: int = field(default_factory=lambda: int(time.time()) + 5 * 86400)

    def headers(self) -> dict[str, str]:
        return {
            "x-codex-primary-used-percent": repr(self.primary),
            "x-codex-primary-window-minutes": str(self.primary_window),
            "x-codex-primary-reset-at": str(self.primary_reset),
            "x-codex-secondary-used-percent": repr(self.secondary),
            "x-codex-secondary-window-minutes": str(self.secondary_window),
            "x-codex-secondary-reset-at": str(self.secondary_reset),
        }


def usage_limit_error(resets_in_seconds: int = 3600) -> CodexError:
    """The 429 Codex shows as "You've hit your usage limit"."""
    resets_at = int(time.time()) + resets_in_seconds
    body = {
        "error": {
            "type": "usage_limit_reached",
            "message": "The usage limit has been reached",
            "plan_type": "plus",
            "resets_at": resets_at,
            "resets_in_seconds": resets_in_seconds,
        }
    }
    headers = {
        "x-codex-primary-used-percent": "100.0",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": str(resets_at),
        "retry-after": str(resets_in_seconds),
    }
    return CodexError(429, body, headers)


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class OpenAIMock(LoopbackMock):
    def __init__(self, fallback: Message | None = None) -> None:
        super().__init__()
        self.script: list[CodexReply] = []
        self.fallback: Message = fallback or Message("MOCK: nothing scripted")
        self.rate_limits: CodexRateLimits | None = None
        self.served: list[tuple[Recorded, CodexReply]] = []
        self._n = 0

    def queue(self, *replies: CodexReply) -> OpenAIMock:
        with self.lock:
            self.script.extend(replies)
        return self

    def responses(self) -> list[dict[str, Any]]:
        """Parsed bodies of every /v1/responses request, in arrival order."""
        return [
            r.json() for r in self.requests if r.method == "POST" and r.path.split("?")[0] == "/v1/responses"
        ]

    def route(self, rec: Recorded) -> Response:
        if rec.method != "POST" or rec.path.split("?")[0] != "/v1/responses":
            return self.not_found(rec)
        body = rec.json() or {}
        with self.lock:
            self._n += 1
            n = self._n
            reply = self.script.pop(0) if body.get("tools") and self.script else self.fallback
            self.served.append((rec, reply))
        headers = {
            "x-request-id": f"req_mock{n:06d}",
            **(self.rate_limits.headers() if self.rate_limits else {}),
        }
        if isinstance(reply, CodexError):
            return json_response(reply.status, reply.body, {**headers, **reply.headers})
        resp_id = f"resp_mock{n:06d}"
        if isinstance(reply, ExecCommand):
            item: dict[str, Any] = {
                "type": "function_call",
                "id": f"fc_mock{n:06d}",
                "call_id": f"call_mock{n:06d}",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": reply.cmd}),
                "status": "completed",
            }
        else:
            item = {
                "type": "message",
                "id": f"msg_mock{n:06d}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
            }
        model = str(body.get("model") or "gpt-5.2-codex")
        base = {"id": resp_id, "object": "response", "created_at": int(time.time()), "model": model}
        stream = b"".join(
            [
                sse(
                    "response.created",
                    {"type": "response.created", "response": {**base, "status": "in_progress", "output": []}},
                ),
                sse(
                    "response.output_item.done",
                    {"type": "response.output_item.done", "output_index": 0, "item": item},
                ),
                sse(
                    "response.completed",
                    {
                        "type": "response.completed",
                        "response": {
                            **base,
                            "status": "completed",
                            "output": [item],
                            "usage": reply.usage.as_dict(),
                        },
                    },
                ),
            ]
        )
        return Response(200, stream, headers, "text/event-stream")
