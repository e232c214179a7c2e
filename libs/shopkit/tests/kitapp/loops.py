"""A worker loop for the tests of `run_worker`: ready at once, then it waits for stop — or, with
KITTEST_LOOP_FAILS_AFTER set (seconds), raises after that long, as a loop with a bug would."""
import asyncio
import os
import threading


class Loop:
    def __init__(self):
        self.ready = threading.Event()

    async def run(self, stop: asyncio.Event) -> None:
        self.ready.set()
        fails_after = os.environ.get("KITTEST_LOOP_FAILS_AFTER")
        if fails_after is None:
            await stop.wait()
            return
        await asyncio.sleep(float(fails_after))
        raise RuntimeError("the test loop failed on purpose")
