"""Running the shop: supervisord in the foreground until Ctrl-C, readiness, and stopping — the shop of this run,
one still running from another terminal (`make down`), or the processes an earlier run left behind."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from . import processes
from .banner import print_banner, urls
from .config import REPO, VENV, Config, SetupError
from .progress import Progress
from .supervisor import Program

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, a closed terminal


def _say(text: str) -> None:
    """Print, unless the terminal is gone (closed: SIGHUP is why we are stopping) — the stop must go on."""
    try:
        print(text, flush=True)
    except OSError:
        pass


def stop_grace_seconds(cfg: Config) -> int:
    """How long a stop waits before SIGKILL: the longest grace of any process kind, and a margin."""
    return max((k.stop_grace_seconds for k in cfg.shop.kinds.values()), default=20) + 5


def clear_leftovers(cfg: Config, progress: Progress) -> None:
    """Refuse when this SHOP_DATA_DIR's shop is running (its launcher is alive); stop what an earlier run left
    behind when its launcher is gone (killed, or its terminal closed): supervisord, gunicorn masters holding the
    ports, workers. Only processes recorded under run/pids/ are touched, each checked to be the one recorded."""
    records = processes.live_records(cfg.pid_dir)
    launcher = records.get(processes.LAUNCHER)
    if launcher and launcher["pid"] != os.getpid():
        raise SetupError(f"a shop is already running with SHOP_DATA_DIR={cfg.data_dir} (launcher pid "
                         f"{launcher['pid']}); stop it with `make down` (or Ctrl-C in its terminal), or use another "
                         f"SHOP_DATA_DIR")
    records.pop(processes.LAUNCHER, None)
    if records:
        with progress.step(f"Stopping {len(records)} processes an earlier run left behind"):
            progress.note(", ".join(f"{name} ({r['pid']})" for name, r in sorted(records.items())))
            killed = processes.stop(records, stop_grace_seconds(cfg))
            if killed:
                progress.note(f"killed after {stop_grace_seconds(cfg)}s: {', '.join(killed)}")


def down(cfg: Config) -> int:
    """`make down`: stop the shop of this SHOP_DATA_DIR, started from another terminal, and wait until it is gone."""
    records = processes.live_records(cfg.pid_dir)
    if not records:
        print(f"No shop is running with SHOP_DATA_DIR={cfg.data_dir}.", flush=True)
        return 0
    print(f"▸ Stopping the shop in {cfg.data_dir} ({len(records)} processes) …", flush=True)
    killed = processes.stop(records, stop_grace_seconds(cfg))
    if killed:
        print(f"  killed after {stop_grace_seconds(cfg)}s: {', '.join(killed)}", flush=True)
    left = [name for name, record in records.items() if processes.is_alive(record)]
    if left:
        print(f"✗ still running: {', '.join(left)}", file=sys.stderr, flush=True)
        return 1
    print("▸ The shop has stopped.", flush=True)
    return 0


def check_ports_free(cfg: Config, table: list[Program]) -> None:
    wanted = {cfg.http_port: "SHOP_HTTP_PORT", cfg.https_port: "SHOP_HTTPS_PORT"}
    for program in table:
        for port in (program.ready_port, program.port):
            if port:
                wanted[port] = f"{program.name} (SHOP_PORT_BASE)"
    if any(p.name == "smtp-sink" for p in table):
        wanted[cfg.smtp_port] = "SHOP_SMTP_PORT"
        wanted[cfg.mailbox_port] = "SHOP_MAILBOX_PORT"
    for port, setting in wanted.items():
        host = cfg.bind_address if setting.startswith("SHOP_HTTP") else "127.0.0.1"
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                raise SetupError(f"port {port} is already in use; it is {setting}: set another value "
                                 f"(is another shop running?)") from None


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Launcher:
    """Runs supervisord in the foreground and stops it, and with it every process, on Ctrl-C, SIGTERM or SIGHUP."""

    def __init__(self, cfg: Config, table: list[Program], progress: Progress):
        self.cfg, self.table, self.progress = cfg, table, progress
        self.supervisord: subprocess.Popen | None = None
        self.stop_requested: int | None = None  # the signal that asked us to stop
        self.stopping = False

    def _on_signal(self, signum, frame):
        self.stop_requested = signum  # acted on by the main loop (see _stop), never inside the handler

    def _program_records(self) -> dict[str, dict]:
        records = processes.live_records(self.cfg.pid_dir)
        return {name: r for name, r in records.items() if name not in (processes.LAUNCHER, processes.SUPERVISORD)}

    def _stop(self) -> None:
        """Stop every process at once. supervisord alone would stop its groups one after another, waiting for
        each, which takes long with sixteen processes; in its shutdown mood it restarts nothing, so we can
        signal every process group (what stopasgroup would do) in parallel while it waits for them."""
        if self.stopping:
            return
        self.stopping = True
        _say(f"\n▸ Stopping the shop ({signal.Signals(self.stop_requested).name}) …")
        if self.supervisord.poll() is None:
            self.supervisord.send_signal(signal.SIGTERM)
        time.sleep(0.2)  # let supervisord enter its shutdown mood first
        for record in self._program_records().values():
            processes.signal_process(record, signal.SIGTERM)

    def log_offsets(self) -> dict[str, int]:
        return {p.name: (self.cfg.log_dir / f"{p.name}.log").stat().st_size
                if (self.cfg.log_dir / f"{p.name}.log").exists() else 0 for p in self.table}

    def _logged_since(self, program: Program, offset: int) -> str:
        path = self.cfg.log_dir / f"{program.name}.log"
        if not path.exists():
            return ""
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def run(self) -> int:
        ready_file = self.cfg.run_dir / "ready.json"
        ready_file.unlink(missing_ok=True)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        offsets = self.log_offsets()
        print(f"▸ Starting {len(self.table)} processes under supervisord …", flush=True)
        # its own log is in $SHOP_DATA_DIR/logs/supervisord.log; the terminal shows our progress instead. Its own
        # session: the terminal's Ctrl-C and hang-up reach the launcher alone, which stops everything in order.
        argv = [str(VENV / "bin" / "supervisord"), "-c", str(self.cfg.supervisor_conf)]
        self.supervisord = subprocess.Popen(argv, env=self.cfg.service_env(), cwd=REPO, stdout=subprocess.DEVNULL,
                                            start_new_session=True)
        processes.write_record(self.cfg.pid_dir / f"{processes.SUPERVISORD}.pid", self.supervisord.pid, argv)
        try:
            if self.wait_until_ready(offsets):
                found = urls(self.cfg)
                ready_file.write_text(json.dumps(found, indent=2))
                print_banner(self.cfg, found)
            while self.supervisord.poll() is None:
                if self.stop_requested is not None:
                    self._stop()
                try:
                    self.supervisord.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            ready_file.unlink(missing_ok=True)
            if self.supervisord.poll() is None:
                self.supervisord.terminate()
                try:
                    self.supervisord.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.supervisord.kill()
            left = self._program_records()  # supervisord gone, yet a program runs on: it must not hold the ports
            if left:
                processes.stop(left, stop_grace_seconds(self.cfg))
        code = self.supervisord.returncode
        if self.stopping:
            _say(f"▸ The shop has stopped; its data stays in {self.cfg.data_dir}.")
            return 0
        print(f"▸ supervisord exited ({code}); see {self.cfg.log_dir / 'supervisord.log'}", flush=True)
        return code or 1

    def _probe(self, program: Program, offset: int) -> bool:
        if program.ready_port:
            return http_ok(f"http://127.0.0.1:{program.ready_port}/readyz", timeout=2)
        return program.ready_log in self._logged_since(program, offset)

    def wait_until_ready(self, offsets: dict[str, int]) -> bool:
        deadline = time.monotonic() + self.cfg.start_timeout
        pending = {p.name: p for p in self.table if p.ready_port or p.ready_log}
        last_report = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            while self.stop_requested is None and self.supervisord.poll() is None:
                probes = {name: pool.submit(self._probe, p, offsets[name]) for name, p in pending.items()}
                for name, probe in probes.items():
                    if probe.result():
                        del pending[name]
                        print(f"  ✓ {name}", flush=True)
                if not pending and http_ok(f"http://127.0.0.1:{self.cfg.http_port}/healthz"):
                    print("  ✓ gateway", flush=True)
                    return True
                if time.monotonic() > deadline:
                    print(f"! Not ready after {self.cfg.start_timeout}s: {', '.join(sorted(pending)) or 'gateway'}. "
                          f"The shop keeps running and retrying; see the logs in {self.cfg.log_dir}", flush=True)
                    return False
                if time.monotonic() - last_report > 10:
                    print(f"  … waiting for {', '.join(sorted(pending)) or 'the gateway'}", flush=True)
                    last_report = time.monotonic()
                time.sleep(0.5)
        return False
