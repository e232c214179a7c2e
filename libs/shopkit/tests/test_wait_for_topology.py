"""`manage.py wait_for_topology` against the real broker: it waits for a consumer's declare, and only for that."""
import asyncio
import threading

import aio_pika
import pytest
from django.core.management import CommandError, call_command

from shopkit.messaging.consumer import Consumer


def declare(url: str, service: str) -> None:
    async def go():
        connection = await aio_pika.connect(url)
        async with connection:
            await Consumer(service=service).declare(await connection.channel())
    asyncio.run(go())


def test_times_out_while_a_service_has_not_declared_its_queues(broker):
    declare(broker, "waitready")
    with pytest.raises(CommandError, match="waitmissing"):
        call_command("wait_for_topology", "--service=waitready", "--service=waitmissing", "--timeout=1",
                     "--interval=0.2")


def test_returns_once_the_consumer_has_declared(broker, capsys):
    # The declare arrives while the command is waiting: it must notice and return.
    timer = threading.Timer(0.5, declare, args=(broker, "waitlater"))
    timer.start()
    try:
        call_command("wait_for_topology", "--service=waitlater", "--timeout=30", "--interval=0.1")
    finally:
        timer.join()
    out = capsys.readouterr().out
    assert "waiting for the topology of waitlater" in out
    assert "topology declared for waitlater" in out
