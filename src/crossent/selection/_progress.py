"""A one-line progress bar on stderr, redrawn in place (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, title: str, *, enabled: bool = True, stream: TextIO | None = None,
                 width: int = 24) -> None:
        self.total, self.title, self.enabled, self.width = total, title, enabled, width
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.started = time.perf_counter()

    def step(self, what: str) -> None:
        """Announce the step about to run, then count it."""
        if self.enabled:
            filled = self.width * self.done // max(self.total, 1)
            elapsed = time.perf_counter() - self.started
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{self.title} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s {what:<32}")
            self.stream.flush()
        self.done += 1

    def close(self) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.started
            self.stream.write(f"\r{self.title} [{'#' * self.width}] {self.total}/{self.total} {elapsed:5.1f}s"
                              f"{' ' * 33}\n")
            self.stream.flush()
