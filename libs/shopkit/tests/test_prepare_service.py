"""`manage.py prepare_service`: migrate, seeds and the queues of a service in one process, as `make up` runs it."""
import asyncio
import os
import subprocess
import uuid

from shopkit.messaging.management.commands.wait_for_topology import missing_queues
from tests.test_probes import django_admin


def test_one_process_migrates_seeds_and_declares_the_queues(tmp_path, rabbitmq_url):
    run = f"prep{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "SHOPKIT_TEST_RUN": run, "SHOP_DATA_DIR": str(tmp_path), "RABBITMQ_URL": rabbitmq_url}
    env.pop("SHOPKIT_TEST_DATABASE_URL", None)  # a fresh SQLite file: nothing migrated yet
    assert asyncio.run(missing_queues(rabbitmq_url, [f"kittest{run}"])) == [f"kittest{run}"]

    argv, kwargs = django_admin(env, "prepare_service", "--seed", "check", "--declare-topology")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["System check identified no issues (0 silenced)."]  # the seed's last line
    argv, kwargs = django_admin(env, "migrate", "--check")
    assert subprocess.run(argv, capture_output=True, timeout=120, **kwargs).returncode == 0  # nothing unapplied
    assert asyncio.run(missing_queues(rabbitmq_url, [f"kittest{run}"])) == []


def test_a_failing_seed_fails_the_preparation(tmp_path):
    env = {**os.environ, "SHOPKIT_TEST_RUN": f"prep{uuid.uuid4().hex[:8]}", "SHOP_DATA_DIR": str(tmp_path)}
    env.pop("SHOPKIT_TEST_DATABASE_URL", None)
    argv, kwargs = django_admin(env, "prepare_service", "--seed", "no_such_command")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode != 0 and "no_such_command" in done.stderr
