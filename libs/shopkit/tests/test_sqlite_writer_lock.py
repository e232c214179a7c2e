"""shopkit.sqlite: a transaction holds the database's writer lock from BEGIN to commit, rollback or close."""
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper as DjangoSQLite

from shopkit.db import sqlite_database
from shopkit.sqlite.base import DatabaseWrapper, WriterLock

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer lock is SQLite's backend's own")


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A settings entry as shopkit.db writes it, for a fresh file of its own (not the test database)."""
    settings = sqlite_database(tmp_path / "shop.sqlite3")
    settings["OPTIONS"]["timeout"] = 0.3
    with django_db_blocker.unblock():
        yield settings


def wrapper(settings: dict, alias: str = "other") -> DatabaseWrapper:
    return DatabaseWrapper({**settings, "TIME_ZONE": None, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False,
                            "CONN_HEALTH_CHECKS": False, "CONN_MAX_AGE": 0}, alias)


def other_can_lock(settings: dict) -> bool:
    """Whether another open file of the lock gets it within a moment (flock: a second open file of this process
    counts). A moment, not at once: a waiter given up on earlier holds the lock for an instant when it frees."""
    other = WriterLock(f"{settings['NAME']}-writer.lock")
    try:
        other.acquire(timeout=0.5)
        return True
    except OperationalError:
        return False
    except Exception as exc:  # noqa: BLE001 - sqlite3's own OperationalError, raised outside Django's wrapper
        if "database is locked" in str(exc):
            return False
        raise
    finally:
        other.close()


def test_shopkit_sqlite_settings_use_this_backend(database):
    assert database["ENGINE"] == "shopkit.sqlite"
    assert issubclass(DatabaseWrapper, DjangoSQLite)
    assert wrapper(database).vendor == "sqlite"


def test_the_lock_is_held_from_begin_to_commit(database):
    db = wrapper(database)
    try:
        db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        assert not other_can_lock(database)
        db.cursor().execute("CREATE TABLE t (x INTEGER)")
        db.commit()
        db.set_autocommit(True)
        assert other_can_lock(database)
    finally:
        db.close()


def test_a_rollback_releases_the_lock(database):
    db = wrapper(database)
    try:
        db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        assert not other_can_lock(database)
        db.rollback()
        db.set_autocommit(True)
        assert other_can_lock(database)
    finally:
        db.close()


def test_closing_the_connection_releases_the_lock(database):
    db = wrapper(database)
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert not other_can_lock(database)
    db.close()
    assert other_can_lock(database)


def test_a_second_transaction_waits_for_the_first_and_then_runs(database):
    first = wrapper(database, "first")
    first.cursor().execute("CREATE TABLE t (x INTEGER)")
    order = []
    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    first.cursor().execute("INSERT INTO t VALUES (1)")

    def write_second():
        second = wrapper({**database, "OPTIONS": {**database["OPTIONS"], "timeout": 10}}, "second")
        second.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        order.append("second began")
        second.cursor().execute("INSERT INTO t VALUES (2)")
        second.commit()
        second.set_autocommit(True)
        second.close()

    thread = threading.Thread(target=write_second)
    thread.start()
    thread.join(0.2)
    assert order == [] and thread.is_alive()  # waiting for the lock, not failing
    order.append("first commits")
    first.commit()
    first.set_autocommit(True)
    thread.join(10)
    assert not thread.is_alive()
    assert order == ["first commits", "second began"]
    assert [row[0] for row in first.cursor().execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    first.close()


def test_a_waiter_gives_up_after_the_busy_timeout_as_sqlite_would(database):
    holder, waiter = wrapper(database, "holder"), wrapper(database, "waiter")
    holder.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            waiter.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        assert waiter.connection.in_transaction is False  # no BEGIN was sent without the lock
    finally:
        holder.rollback()
        holder.close()
        waiter.close()
    assert other_can_lock(database)  # the waiter given up on took the lock when it freed, and let it go at once


def test_a_process_that_dies_holding_the_lock_releases_it(database):
    lock_path = f"{database['NAME']}-writer.lock"
    code = ("import fcntl, os, signal, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    Path(lock_path).touch()
    holder = subprocess.Popen([sys.executable, "-c", code, lock_path], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.wait(10)
    assert other_can_lock(database)


@pytest.mark.django_db(transaction=True)
def test_the_default_connection_takes_and_releases_the_lock_around_atomic():
    with transaction.atomic():
        assert not other_can_lock(connection.settings_dict)
    assert other_can_lock(connection.settings_dict)
