"""Django's SQLite backend, with the database's write lock taken through a lock file before ``BEGIN IMMEDIATE``.

Every transaction of ours starts with ``BEGIN IMMEDIATE`` (shopkit.db), so on SQLite a transaction first waits for
the one write lock of the file. SQLite's own wait (the busy timeout) sleeps in growing steps, up to 100 ms between
two looks, and is not told when the lock frees: under load a POST or a consumer's batch waited tens to hundreds of
milliseconds after the lock was already free, while newcomers took it (bench/messaging/sqlite_lock_bench.py).

So a transaction first takes an exclusive ``flock`` on ``<database>-writer.lock`` (flock is per open file, so two
connections of one process exclude each other too), and only then sends BEGIN IMMEDIATE, which then finds the
SQLite lock free; commit, rollback and close release it. The kernel wakes a waiter when the lock is released, and
a process that dies releases its lock with it. Writes outside a transaction and the connections of other programs
(the sqlite3 shell) don't take it; SQLite's own lock still guards them, as before.

A waiter gives up after the busy timeout with the error SQLite gives ("database is locked"), so nothing waits
longer than it did before. A database in memory has no file, and takes no lock.
"""
import fcntl
import os
import threading

from django.db.backends.sqlite3 import base as sqlite3_base


class DatabaseWrapper(sqlite3_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer_lock: WriterLock | None = None

    def _start_transaction_under_autocommit(self):
        with self.wrap_database_errors:  # its failures are Django's OperationalError, as SQLite's own would be
            lock = self._writer_lock_file()
            if lock is not None:
                lock.acquire(timeout=self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            # A failed COMMIT leaves the transaction open (SQLite): Django rolls it back next, still under the lock.
            if not self._in_sqlite_transaction():
                self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self._writer_lock is not None:
                self._writer_lock.close()
                self._writer_lock = None

    def _in_sqlite_transaction(self) -> bool:
        return self.connection is not None and self.connection.in_transaction

    def _release_writer_lock(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    def _writer_lock_file(self) -> "WriterLock | None":
        if self._writer_lock is None and not self.is_in_memory_db():
            self._writer_lock = WriterLock(f"{self.settings_dict['NAME']}-writer.lock")
        return self._writer_lock


class WriterLock:
    """An exclusive flock on ``path``, taken with a timeout.

    Free, it is taken at once, on the open file this object keeps. Taken by someone else, a thread of its own
    waits for it in the kernel (blocking flock has no timeout) on a new open file, while the caller waits at most
    ``timeout`` for that thread: a waiter the caller gave up on closes its file when it gets the lock at last,
    which releases it again. The kernel wakes a waiter when the lock is released; looking again every few
    milliseconds instead let newcomers take it first and doubled the longest waits (sqlite_lock_bench.py)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = _open(path)
        self.holding: int | None = None  # the open file that holds the lock (self.fd, or a waiter's)

    def acquire(self, *, timeout: float) -> None:
        """Take the lock, or raise sqlite3's OperationalError("database is locked") after ``timeout`` seconds."""
        if self.holding is not None:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.holding = self.fd
            return
        except BlockingIOError:
            pass
        waiter = _Waiter(_open(self.path))
        threading.Thread(target=waiter.wait, name="sqlite-writer-lock", daemon=True).start()
        fd = waiter.result(timeout)
        if fd is None:
            raise sqlite3_base.Database.OperationalError(
                f"database is locked (another transaction held {self.path} for {timeout:g}s)")
        self.holding = fd

    def release(self) -> None:
        fd, self.holding = self.holding, None
        if fd is None:
            return
        fcntl.flock(fd, fcntl.LOCK_UN)
        if fd != self.fd:
            os.close(fd)

    def close(self) -> None:
        self.release()
        os.close(self.fd)


class _Waiter:
    """Waits for the lock on an open file of its own; hands it over, or, abandoned, closes it (releasing it)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.state = threading.Condition()
        self.done = False  # it has the lock
        self.abandoned = False  # the caller stopped waiting

    def wait(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        with self.state:
            if self.abandoned:
                os.close(self.fd)  # releases the lock nobody wants any more
                return
            self.done = True
            self.state.notify()

    def result(self, timeout: float) -> int | None:
        with self.state:
            self.state.wait_for(lambda: self.done, timeout)
            if self.done:
                return self.fd
            self.abandoned = True
            return None


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # beside a database file that cannot be opened either
        raise sqlite3_base.Database.OperationalError(f"unable to open the writer lock {path}: {exc}") from exc
