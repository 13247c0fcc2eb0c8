"""Hot pages take turns on the event loop: first come, first served, one per pass of the loop.

Without turns, a batch of requests that became ready together ran back to back in one pass of the
loop, and the loop accepted one new connection per pass (libuv): under load new clients waited for
seconds (BENCHMARKS.md, ``## Web``).  These tests pin the ordering, not any timing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from caselink.web.turns import Turns


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_sections_run_in_arrival_order_with_a_loop_pass_between_them() -> None:
    """A callback scheduled inside one section (as the loop's I/O polling would) runs before the next
    section starts: the loop gets control between every two hot requests."""
    log: list[str] = []

    async def request(turns: Turns, number: int) -> None:
        async with turns.turn():
            log.append(f"section {number}")
            asyncio.get_running_loop().call_soon(log.append, f"pass after {number}")

    async def main() -> None:
        turns = Turns()
        await asyncio.gather(*(request(turns, n) for n in range(4)))

    _run(main())
    assert log == ["section 0", "pass after 0", "section 1", "pass after 1",
                   "section 2", "pass after 2", "section 3", "pass after 3"]


def test_a_plain_lock_would_not_give_the_loop_a_pass() -> None:
    """The reason for Turns: asyncio.Lock is never contended by sections that do not await, so a whole
    batch runs in one pass (this is what the test above would see without Turns)."""
    log: list[str] = []

    async def request(lock: asyncio.Lock, number: int) -> None:
        async with lock:
            log.append(f"section {number}")
            asyncio.get_running_loop().call_soon(log.append, f"pass after {number}")

    async def main() -> None:
        lock = asyncio.Lock()
        await asyncio.gather(*(request(lock, n) for n in range(3)))

    _run(main())
    assert log[:3] == ["section 0", "section 1", "section 2"]


def test_a_request_that_arrives_during_a_pass_queues_behind_the_waiting_ones() -> None:
    log: list[str] = []

    async def request(turns: Turns, name: str) -> None:
        async with turns.turn():
            log.append(name)

    async def main() -> None:
        turns = Turns()
        first = [asyncio.create_task(request(turns, f"early {n}")) for n in range(3)]
        await asyncio.sleep(0)  # the early ones are queued (the first holds the turn)
        late = asyncio.create_task(request(turns, "late"))
        await asyncio.gather(*first, late)

    _run(main())
    assert log == ["early 0", "early 1", "early 2", "late"]


def test_a_cancelled_waiter_is_skipped_and_the_turn_moves_on() -> None:
    log: list[str] = []

    async def request(turns: Turns, name: str) -> None:
        async with turns.turn():
            log.append(name)

    async def main() -> None:
        turns = Turns()
        tasks = [asyncio.create_task(request(turns, name)) for name in ("a", "b", "c")]
        await asyncio.sleep(0)
        tasks[1].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[1], asyncio.CancelledError)
        # Nothing is left holding the turn: a new request gets it.
        await asyncio.wait_for(request(turns, "after"), timeout=5)

    _run(main())
    assert log == ["a", "c", "after"]


def test_a_waiter_cancelled_just_as_it_is_handed_the_turn_passes_it_on() -> None:
    log: list[str] = []

    async def request(turns: Turns, name: str) -> None:
        async with turns.turn():
            log.append(name)

    async def main() -> None:
        turns = Turns()
        held = turns.turn()
        await held.__aenter__()  # this coroutine holds the turn
        second = asyncio.create_task(request(turns, "second"))
        third = asyncio.create_task(request(turns, "third"))
        await asyncio.sleep(0)  # both queue behind it
        await held.__aexit__(None, None, None)  # the turn goes to `second`; its wake-up is only scheduled
        second.cancel()  # ... and it is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await second
        await asyncio.wait_for(third, timeout=5)

    _run(main())
    assert log == ["third"]


def test_hot_pages_take_a_turn_and_thread_pool_pages_do_not(app: Any, api: Any) -> None:
    class CountingTurns(Turns):
        taken = 0

        def turn(self) -> Any:
            CountingTurns.taken += 1
            return super().turn()

    app.state.turns = CountingTurns()
    analyst = api("analyst")
    assert analyst.get("/api/alerts").status_code == 200
    assert analyst.get("/api/cases/BK-01", headers={"X-Justification": "checking the record"}).status_code == 200
    assert analyst.get("/api/series/S-0001").status_code == 200
    assert CountingTurns.taken == 3
    assert analyst.get("/api/cases", params={"limit": 5}).status_code == 200  # search: a worker thread
    assert CountingTurns.taken == 3
