"""Pid records of every process the launcher starts, and stopping the processes of a shop, its own or left behind.

A record names one process exactly: its pid plus its identity (the boot id and the process's start time), so a
pid the system has since given to another process is never signalled. supervisord starts every program through
this file run as a script: it records its own pid, then execs the program, which keeps the pid and start time.

    python3 processes.py <pid file> <program> [args…]

Standard library only, and no import from the launcher: it runs as a script in every program's folder.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

LAUNCHER, SUPERVISORD = "launcher", "supervisord"  # the records that are not programs


def identity(pid: int) -> str | None:
    """What tells process ``pid`` from any later one with the same pid; None when there is no such live process."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the name before ")" may hold spaces
            boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        except (OSError, IndexError):
            return None
        if fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent: nothing left to stop
            return None
        return f"{boot}:{fields[19]}"  # field 22 of stat: start time in clock ticks after boot
    # elsewhere (macOS): ps prints the start time to the second; with the pid that still names one process
    result = subprocess.run(["ps", "-o", "stat=,lstart=", "-p", str(pid)], text=True, capture_output=True)
    line = result.stdout.strip()
    if result.returncode != 0 or not line or line.startswith("Z"):
        return None
    return line.split(None, 1)[1]


def write_record(path: Path, pid: int, argv: list[str]) -> None:
    """Record live process ``pid`` (started with ``argv``) in ``path``, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"pid": pid, "identity": identity(pid), "argv": argv}))
    temporary.replace(path)


def read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
        return record if isinstance(record.get("pid"), int) and record.get("identity") else None
    except (OSError, ValueError, AttributeError):
        return None


def is_alive(record: dict) -> bool:
    """The recorded process itself still runs (not merely some process with its pid)."""
    return identity(record["pid"]) == record["identity"]


def live_records(pid_dir: Path) -> dict[str, dict]:
    """name → record of every recorded process still running; the records of processes gone are removed."""
    found = {}
    for path in sorted(pid_dir.glob("*.pid")) if pid_dir.is_dir() else ():
        record = read_record(path)
        if record and is_alive(record):
            found[path.stem] = record
        else:
            path.unlink(missing_ok=True)
    return found


def signal_process(record: dict, signum: int, *, group: bool = True) -> None:
    """Send ``signum`` to the recorded process and, when it leads a process group (supervisord makes every program
    lead its own), to that whole group: gunicorn's and nginx's workers go with their master."""
    pid = record["pid"]
    if not is_alive(record):
        return
    try:
        if group and os.getpgid(pid) == pid:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # gone meanwhile, or not ours to signal


def stop(records: dict[str, dict], grace_seconds: float) -> list[str]:
    """Stop the recorded processes and wait until every one is gone; returns the names of those that had to be
    killed. The launcher and supervisord are asked first, so supervisord is shutting down (it restarts nothing)
    when its programs get SIGTERM, all at once; whatever still runs after ``grace_seconds`` gets SIGKILL."""
    first = [name for name in (LAUNCHER, SUPERVISORD) if name in records]
    for name in first:  # the launcher's group may hold whatever started it (a shell pipeline): only itself
        signal_process(records[name], signal.SIGTERM, group=name != LAUNCHER)
    if first:
        time.sleep(0.3)
    for name, record in records.items():
        if name not in first:
            signal_process(record, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(is_alive(r) for r in records.values()):
        time.sleep(0.2)
    killed = [name for name, record in records.items() if is_alive(record)]
    for name in killed:
        signal_process(records[name], signal.SIGKILL, group=name != LAUNCHER)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(is_alive(r) for r in records.values()):
        time.sleep(0.1)
    return killed


def _exec_recorded(pid_file: str, argv: list[str]) -> None:
    write_record(Path(pid_file), os.getpid(), argv)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    _exec_recorded(sys.argv[1], sys.argv[2:])
