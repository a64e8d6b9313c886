"""A poll whose data cannot be shown (a bug on odd data) marks the source failed and the loop goes
on: before, the exception ended the worker silently and that source never polled again."""

from __future__ import annotations

import asyncio

from tui.poller import Poller


async def test_an_error_while_showing_the_data_keeps_the_loop_polling():
    seen = []

    def on_result(name, result, source):
        seen.append((result, source.ok, source.error))
        if result is not None:
            raise ValueError("a rendering bug")

    async def fetch():
        return "data"

    poller = Poller("instant", fetch, lambda: 0.01, on_result, lambda: 1.0)
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.2)
    task.cancel()
    assert poller.polls >= 3
    assert not poller.source.ok and "internal error showing the data (ValueError)" in poller.source.error
    assert (None, False, "internal error showing the data (ValueError)") in seen
