"""The loopback mocks on their own (no CLI needed): wire format, scripting, leak and 404 accounting."""

from __future__ import annotations

import http.client
import json
from typing import Any

from .mock_anthropic import AnthropicMock, ErrorReply, RateLimits, Usage, text_reply, tool_reply
from .mock_http import LoopbackMock
from .mock_openai import CodexRateLimits, ExecCommand, Message, OpenAIMock


def post(mock: LoopbackMock, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read().decode()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_anthropic_stream_sequence_usage_and_headers() -> None:
    with AnthropicMock() as mock:
        mock.rate_limits = RateLimits(five_hour=0.5, seven_day=0.25)
        usage = Usage(10, 20, 30, 4, 5)
        mock.queue(tool_reply("Bash", {"command": "echo hi"}, text="running", usage=usage))
        status, headers, body = post(
            mock, "/v1/messages?beta=true", {"model": "m", "stream": True, "tools": [{}]}
        )
    assert status == 200 and headers["request-id"] == "req_mock000001"
    assert headers["anthropic-ratelimit-unified-5h-utilization"] == "0.5"
    events = sse_events(body)
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    start = events[0][1]["message"]
    assert start["usage"]["output_tokens"] == 1 and start["model"] == "m"
    final = events[-2][1]
    assert final["delta"]["stop_reason"] == "tool_use"
    assert final["usage"]["cache_creation_input_tokens"] == 9
    assert final["usage"]["cache_creation"] == {
        "ephemeral_5m_input_tokens": 4,
        "ephemeral_1h_input_tokens": 5,
    }
    partial = "".join(
        d["delta"]["partial_json"] for n, d in events if n == "content_block_delta" and d["index"] == 1
    )
    assert json.loads(partial) == {"command": "echo hi"}


def test_anthropic_script_order_fallback_non_stream_and_errors() -> None:
    with AnthropicMock(fallback=text_reply("fallback")) as mock:
        mock.queue(ErrorReply(429, "rate_limit_error", "slow down"), text_reply("scripted"))
        no_tools = post(mock, "/v1/messages", {"model": "m"})
        error = post(mock, "/v1/messages", {"model": "m", "tools": [{}]})
        scripted = post(mock, "/v1/messages", {"model": "m", "tools": [{}]})
        assert len(mock.messages()) == 3 and not mock.unknown
    assert json.loads(no_tools[2])["content"] == [{"type": "text", "text": "fallback"}]
    assert error[0] == 429 and error[1]["x-should-retry"] == "false"
    assert json.loads(error[2])["error"] == {"type": "rate_limit_error", "message": "slow down"}
    assert json.loads(scripted[2])["content"][0]["text"] == "scripted"


def test_proxy_attempts_and_unknown_paths_are_refused_and_counted() -> None:
    with AnthropicMock() as mock:
        conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
        conn.request("CONNECT", "api.anthropic.com:443")
        assert conn.getresponse().status == 403
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
        conn.request("GET", "http://example.com/x")
        assert conn.getresponse().status == 403
        conn.close()
        assert post(mock, "/v1/models", {})[0] == 404
        assert mock.leaks() == ["CONNECT api.anthropic.com:443", "GET http://example.com/x"]
        assert [r.path for r in mock.unknown] == ["/v1/models"]


def test_openai_responses_stream_and_headers() -> None:
    with OpenAIMock() as mock:
        mock.rate_limits = CodexRateLimits(primary=10.0, secondary=20.5)
        mock.queue(ExecCommand("echo hi"), Message("done"))
        first = post(mock, "/v1/responses", {"model": "g", "stream": True, "tools": [{}]})
        second = post(mock, "/v1/responses", {"model": "g", "stream": True, "tools": [{}]})
    assert first[1]["x-codex-secondary-used-percent"] == "20.5"
    events = sse_events(first[2])
    assert [n for n, _ in events] == ["response.created", "response.output_item.done", "response.completed"]
    call = events[1][1]["item"]
    assert call["name"] == "exec_command" and json.loads(call["arguments"]) == {"cmd": "echo hi"}
    usage = events[2][1]["response"]["usage"]
    assert usage["input_tokens_details"]["cached_tokens"] == 250 and usage["total_tokens"] == 1125
    message = sse_events(second[2])[1][1]["item"]
    assert message["content"][0]["text"] == "done"
