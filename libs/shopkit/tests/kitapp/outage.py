"""A real database outage for one thread: its connection is pointed at a place where no database is."""
import socket
import threading

from django.db import DEFAULT_DB_ALIAS, connections

_lock = threading.Lock()
_away: list = []  # (wrapper, its real settings) of every thread whose database was taken away


def _nowhere(settings: dict, vendor: str) -> dict:
    if vendor == "sqlite":
        return {**settings, "NAME": "/nonexistent-shopkit-outage/db.sqlite3"}  # cannot be opened
    with socket.socket() as sock:  # a port nothing listens on: connecting is refused, as when the server is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {**settings, "HOST": "127.0.0.1", "PORT": str(port)}


def take_database_away() -> None:
    """From now on, every new connection of the calling thread fails as it does while the server is down.

    Outside a transaction the thread's open connection is closed too; inside one (a handler) it stays usable
    until the transaction ends, as a connection the server dropped is only found dead when next used."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's own (django.db.connection is a proxy to it)
    with _lock:
        _away.append((wrapper, wrapper.settings_dict))
        wrapper.settings_dict = _nowhere(wrapper.settings_dict, wrapper.vendor)
    if not wrapper.in_atomic_block:
        wrapper.close()


def bring_database_back() -> None:
    """Every thread whose database was taken away reaches it again with its next connection."""
    with _lock:
        while _away:
            wrapper, settings = _away.pop()
            wrapper.settings_dict = settings
