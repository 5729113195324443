"""Pure: the 5-hour blocks of past activity, by ccusage's rule (ccusage `blocks`, its
`identify_session_blocks`), so that on the same responses the token totals per block are the same.

The rule, read from ccusage (rust/crates/ccusage/src/blocks.rs): responses in time order; a block
starts at its first response's time floored to the UTC hour and lasts five hours; a response starts a
new block when it is more than five hours after the block's start, or more than five hours after the
previous response (strictly more: a response exactly five hours later stays in the block). The idle
time between two blocks is a gap, which is not a block. A block is active while its last response is
less than five hours ago and its end has not passed.
"""

from __future__ import annotations

from collections.abc import Iterable

from governor.record import Record

BLOCK_SECONDS = 5 * 3600
_MS = 1000
_HOUR_MS = 3600 * _MS


class Block(Record):
    """One block: [start, end) in epoch seconds; first/last are its first and last responses' times."""

    start: float
    end: float
    first: float
    last: float


def _ms(ts: float) -> int:
    return round(ts * _MS)  # ccusage compares milliseconds; the ledger keeps the transcript's ms


def identify(times: Iterable[float], length_s: float = BLOCK_SECONDS) -> list[Block]:
    """The blocks of responses at `times` (epoch s, ascending)."""
    length = round(length_s * _MS)
    blocks: list[Block] = []
    start = first = last = None
    for ts in times:
        t = _ms(ts)
        if start is None or first is None or last is None:
            start, first = t - t % _HOUR_MS, t
        elif t - start > length or t - last > length:
            blocks.append(Block(start / _MS, (start + length) / _MS, first / _MS, last / _MS))
            start, first = t - t % _HOUR_MS, t
        last = t
    if start is not None and first is not None and last is not None:
        blocks.append(Block(start / _MS, (start + length) / _MS, first / _MS, last / _MS))
    return blocks


def is_active(block: Block, now: float) -> bool:
    """ccusage's rule: the last response less than a block length ago and the block not yet over."""
    return now - block.last < block.end - block.start and now < block.end


def burn_per_hour(amount: float, block: Block, now: float, min_hours: float = 0.25) -> float:
    """An active block's burn: what it used so far over the time since its first response (at least
    `min_hours`, so a single burst is not read as an hourly rate)."""
    hours = max(min_hours, (now - block.first) / 3600)
    return max(0.0, amount) / hours


def project_to_end(amount: float, block: Block, now: float) -> float:
    """`amount` at the block's end if the burn since its first response holds."""
    return amount + burn_per_hour(amount, block, now) * max(0.0, (block.end - now) / 3600)
