"""The hot pages take turns on the event loop: one at a time, in arrival order, one per loop pass.

The hot pages (``Views.page(on_loop=True)``) do their database work synchronously on the event
loop.  Between two awaits nothing else runs, so a batch of fifty requests that became ready
together is served back to back in a single pass of the loop, and the loop looks at its sockets
again only when the whole batch is done.  Two things then go wrong, both measured with
``bench/serve_load.py`` (BENCHMARKS.md, ``## Web``):

* **New connections wait for seconds.**  uvloop's libuv accepts one connection per pass of the
  loop (libuv >= 1.45, "don't accept() connections in a loop", libuv PR 3696).  With 50 busy
  keep-alive clients a pass lasts 50 requests (~0.3 s on PostgreSQL, where every request waits
  for a dozen round trips), so a burst of 34 new connections sat in the kernel's accept queue for
  up to 10 s, one accepted every 0.3 s: the 4-10 s p99 of the PostgreSQL runs.
* **Unfair order.**  Requests are served in the order the loop happens to find their sockets, so
  one request per pass waited about two passes (p99 about 2 x p50 on both engines).

:class:`Turns` is a first-in, first-out queue whose holder always hands over to the next one on
the *next* pass of the loop: between two hot requests the loop polls its sockets (accepting the
next connection, reading new requests into the back of the queue).  It adds one loop pass per
request (a ``epoll_wait`` with zero timeout) and changes no request's work.  It is not a lock for
data: everything here runs on one thread; it only orders the synchronous sections.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Turns:
    """First come, first served sections on the event loop, at most one per pass of the loop."""

    def __init__(self) -> None:
        self._taken = False  # a section is running, or the loop has not yet polled since the last one
        self._waiting: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for this request's turn, run the body, and pass the turn on at the next loop pass."""
        if self._taken:
            ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(ticket)
            try:
                await ticket
            except asyncio.CancelledError:
                if ticket.done() and not ticket.cancelled():
                    self._pass_on()  # the turn was handed to us as we were cancelled: hand it on
                raise
        else:
            self._taken = True
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        # Waking a waiter schedules it for the next pass of the loop, after the loop has polled.
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.done():  # a cancelled waiter is skipped
                ticket.set_result(None)
                return
        # Nobody waits yet: stay taken until the loop has polled once, so that requests of the same
        # batch queue up (in order) instead of running back to back in this pass.
        asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        if self._waiting:
            self._pass_on()
        else:
            self._taken = False
