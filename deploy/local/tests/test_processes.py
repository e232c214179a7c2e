"""Pid records name one process exactly; stopping signals only recorded processes that are still the same."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from launcher import processes

RECORDER = Path(processes.__file__).resolve()


def _sleeper(tmp_path: Path, name: str = "sleeper") -> tuple[subprocess.Popen, Path]:
    """`sleep` started through the recorder, in its own process group as supervisord starts programs."""
    pid_file = tmp_path / "pids" / f"{name}.pid"
    child = subprocess.Popen([sys.executable, str(RECORDER), str(pid_file), "sleep", "60"], start_new_session=True)
    deadline = time.monotonic() + 10
    while processes.read_record(pid_file) is None:
        assert time.monotonic() < deadline, "the recorder wrote no record"
        time.sleep(0.05)
    return child, pid_file


def test_the_recorder_records_the_program_itself(tmp_path):
    child, pid_file = _sleeper(tmp_path)
    try:
        record = processes.read_record(pid_file)
        assert record["pid"] == child.pid  # exec kept the pid: the record names the program, not a wrapper
        assert record["argv"] == ["sleep", "60"]
        assert processes.is_alive(record)
        assert Path(f"/proc/{child.pid}/cmdline").read_bytes().split(b"\0")[0] == b"sleep"
    finally:
        child.kill()
        child.wait()
    assert not processes.is_alive(record)
    assert processes.live_records(tmp_path / "pids") == {}
    assert not pid_file.exists()  # the record of a process gone is removed


def test_stop_ends_the_recorded_process_group(tmp_path):
    child, pid_file = _sleeper(tmp_path)
    try:
        records = processes.live_records(tmp_path / "pids")
        assert processes.stop(records, grace_seconds=10) == []  # stopped by SIGTERM, nothing had to be killed
        assert child.wait(timeout=5) == -15
    finally:
        if child.poll() is None:
            child.kill()


def test_a_pid_now_used_by_another_process_is_never_signalled(tmp_path):
    child, pid_file = _sleeper(tmp_path)
    try:
        record = processes.read_record(pid_file)
        record["identity"] = "another-boot:12345"  # what a record of an earlier process with this pid looks like
        pid_file.write_text(json.dumps(record))
        assert processes.live_records(tmp_path / "pids") == {}
        processes.stop({"sleeper": record}, grace_seconds=1)
        time.sleep(0.3)
        assert child.poll() is None  # still running: not ours to stop
    finally:
        child.kill()
        child.wait()


def test_an_unreadable_record_is_dropped(tmp_path):
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / "broken.pid").write_text(str(os.getpid()))  # a bare pid: no identity to check it by
    assert processes.live_records(tmp_path / "pids") == {}
