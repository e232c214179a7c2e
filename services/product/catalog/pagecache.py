"""Rendered product-list pages kept in process memory, keyed by the catalog's exact version number.

A page is rendered once per catalog state and reused until anything in the catalog changes (the version in the
key moves on, and the old entries age out of the LRU). Every request still asks the database for the version,
so no process ever serves a page older than the catalog it can see.
"""
import threading
from collections import OrderedDict

from catalog import constants


class RenderedPages:
    def __init__(self, size: int = constants.RENDERED_PAGES_CACHED):
        self.size = size
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn may run threaded workers

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


PAGES = RenderedPages()
