"""What the terminal shows while `make up` works: each step as it starts and when it is done."""
from __future__ import annotations

import time


class Progress:
    """Prints each step as it starts and when it is done (steps may run side by side)."""

    def step(self, text: str) -> "_Step":
        return _Step(text)

    @staticmethod
    def note(text: str) -> None:
        print(f"  {text}", flush=True)


class _Step:
    def __init__(self, text: str):
        self.text, self.started = text, time.monotonic()
        print(f"▸ {text} …", flush=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            short = self.text if len(self.text) <= 40 else self.text[:37] + "…"
            print(f"  done in {time.monotonic() - self.started:.1f}s ({short})", flush=True)
