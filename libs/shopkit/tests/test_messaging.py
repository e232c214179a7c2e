"""The outbox → RabbitMQ → inbox pipeline against the real broker (a vhost of this test session's own)."""
import asyncio

import aio_pika
import pytest
from django.core.management import call_command
from django.db import transaction

from shopkit import events
from shopkit.context import correlated
from shopkit.envelope import build_event
from shopkit.messaging import parking
from shopkit.messaging.config import EXCHANGE
from shopkit.messaging.consumer import ATTEMPT_HEADER, Consumer
from shopkit.messaging.handling import Handler
from shopkit.messaging.models import InboxRecord, OutboxMessage
from shopkit.messaging.outbox import emit
from shopkit.messaging.relay import Relay
from shopkit.testing import rabbitmqctl, running, wait_until
from tests.kitapp.handlers import CALLS, HANDLERS, SLOW_STARTED, note_write_for_user
from tests.kitapp.models import Failure, Note
from tests.kitapp.outage import bring_database_back, take_database_away

pytestmark = pytest.mark.django_db(transaction=True)


def register(user_id: str, name: str = "Ann") -> None:
    with transaction.atomic():
        emit(events.USER_REGISTERED, {"user_id": user_id, "email": f"{user_id}@example.com", "name": name},
             subject=user_id)


def notes(key: str) -> int:
    return Note.objects.filter(key=key).count()


def broker_call(url, fn):
    """Run ``await fn(channel)`` on a fresh connection to the test vhost."""
    async def go():
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            return await fn(channel)
    return asyncio.run(go())


def publish_raw(url, body: bytes, routing_key: str, message_id: str = "raw") -> None:
    async def send(channel):
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(body=body, message_id=message_id), routing_key=routing_key)
    broker_call(url, send)


@pytest.fixture
def service(settings, broker, request, monkeypatch):
    """A service name of this test's own: its own queues in the session's vhost. It stands in for the owner of
    the types the kit app emits and handles (consumers park events from anyone but the owner)."""
    name = f"kit{abs(hash(request.node.name)) % 10**8}"
    settings.SHOPKIT_SERVICE = name
    monkeypatch.setitem(events.OWNERS, "user", name)
    return name


def test_emit_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        emit(events.STOCK_RELEASED, {"order_id": "o1"})


def test_rolled_back_event_is_never_published_and_committed_one_is_handled_once(service, broker):
    with running(Consumer()) as consumer, running(Relay()):
        with pytest.raises(ZeroDivisionError):
            with transaction.atomic():
                emit(events.USER_REGISTERED, {"user_id": "ghost", "email": "g@example.com", "name": "G"})
                1 / 0
        register("real")
        wait_until(lambda: notes("real") == 1)
        wait_until(lambda: consumer.handled >= 1)
    assert notes("ghost") == 0
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().sent_at is not None
    assert InboxRecord.objects.filter(event_type=events.USER_REGISTERED).count() == 1


def test_committed_event_reaches_every_bound_queue(service, broker):
    async def declare_other(channel):
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"{service}-other.events", auto_delete=False, durable=True)
        await queue.bind(exchange, events.USER_REGISTERED)
    broker_call(broker, declare_other)
    with running(Consumer()), running(Relay()):
        register("both")
        wait_until(lambda: notes("both") == 1)

    async def take(channel):
        queue = await channel.declare_queue(f"{service}-other.events", passive=True)
        message = await queue.get(timeout=5, fail=False)
        await queue.delete(if_unused=False, if_empty=False)
        return message
    message = broker_call(broker, take)
    assert message is not None
    assert message.content_type == "application/cloudevents+json"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == str(OutboxMessage.objects.get().event_id)


def test_doorbell_wakes_the_relay_without_waiting_for_the_poll(service, broker, settings):
    # With a poll of a minute, only the commit's doorbell can get the event out within the wait below.
    with running(Consumer()), running(Relay(poll_seconds=60)) as relay:
        register("prompt")
        wait_until(lambda: notes("prompt") == 1, timeout=20)
    assert relay.published == 1


class CrashAfterPublish(Exception):
    pass


class RelayKilledBeforeMarking(Relay):
    """A relay that dies after the broker confirmed a batch but before the rows are marked sent."""

    def mark_sent(self, ids):
        raise CrashAfterPublish(ids)


def test_relay_killed_between_publish_and_mark_sent_has_one_effect(service, broker):
    with running(Consumer()) as consumer:
        register("twice")
        crashing = running(RelayKilledBeforeMarking())
        with pytest.raises(CrashAfterPublish):
            with crashing:
                wait_until(lambda: crashing.error is not None)
        assert OutboxMessage.objects.get().sent_at is None  # published, but not known to be
        with running(Relay()):
            wait_until(lambda: OutboxMessage.objects.filter(sent_at__isnull=False).count() == 1)
            wait_until(lambda: consumer.handled == 2)  # delivered twice …
    assert notes("twice") == 1  # … applied once
    assert InboxRecord.objects.count() == 1


def test_two_relay_replicas_publish_each_event_once_and_in_order(service, broker):
    from django.db import connection

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite runs one relay per database file (no row locks to share the lease)")
    with running(Consumer()) as consumer, running(Relay()) as first, running(Relay()) as second:
        for i in range(60):
            register(f"replica-{i:02d}")
        wait_until(lambda: Note.objects.filter(key__startswith="replica-").count() == 60, timeout=30)
    assert consumer.handled == 60  # no event went out twice
    assert first.published + second.published == 60
    keys = list(Note.objects.filter(key__startswith="replica-").order_by("id").values_list("key", flat=True))
    assert keys == [f"replica-{i:02d}" for i in range(60)]


def test_a_message_delivered_twice_has_one_effect(service, broker):
    event = build_event(events.USER_REGISTERED, {"user_id": "dup", "email": "d@example.com", "name": "D"},
                        source=f"/shop/{service}")
    with running(Consumer()) as consumer:
        publish_raw(broker, event.to_json(), events.USER_REGISTERED, event.id)
        publish_raw(broker, event.to_json(), events.USER_REGISTERED, event.id)
        wait_until(lambda: consumer.handled == 2)
    assert notes("dup") == 1


def test_an_event_from_a_service_that_does_not_own_its_type_is_parked_at_once(service, broker):
    data = {"email": "f@example.com", "name": "F"}
    forged = build_event(events.USER_REGISTERED, {**data, "user_id": "forged"}, source="/shop/order")
    genuine = build_event(events.USER_REGISTERED, {**data, "user_id": "genuine"}, source=f"/shop/{service}")
    with running(Consumer()) as consumer:
        publish_raw(broker, forged.to_json(), events.USER_REGISTERED, forged.id)
        publish_raw(broker, genuine.to_json(), events.USER_REGISTERED, genuine.id)
        wait_until(lambda: notes("genuine") == 1 and consumer.parked == 1)
    assert notes("forged") == 0 and CALLS.get("forged", 0) == 0  # the handler never ran
    [parked] = asyncio.run(parking.list_parked(broker, service))
    assert parked["message_id"] == forged.id and parked["attempts"] == 1  # at once, not after the retries
    assert f"comes from /shop/{service}, not /shop/order" in parked["error"]


def note_written_under_a_new_python_name(event):
    """note_write_for_user after a refactoring moved and renamed it (same declared name in the table)."""
    note_write_for_user(event)


def test_a_renamed_handler_does_not_apply_a_redelivered_event_again(service, broker):
    event = build_event(events.USER_REGISTERED, {"user_id": "renamed", "email": "r@example.com", "name": "R"},
                        source=f"/shop/{service}")
    with running(Consumer()) as consumer:
        publish_raw(broker, event.to_json(), events.USER_REGISTERED, event.id)
        wait_until(lambda: consumer.handled == 1)
    # a deploy: the function has another module and name now, the table keeps its declared name
    renamed = {**HANDLERS, events.USER_REGISTERED: Handler(HANDLERS[events.USER_REGISTERED].name,
                                                           note_written_under_a_new_python_name)}
    assert note_written_under_a_new_python_name.__qualname__ != note_write_for_user.__qualname__
    with running(Consumer(handlers=renamed)) as consumer:
        publish_raw(broker, event.to_json(), events.USER_REGISTERED, event.id)  # the broker redelivers it
        wait_until(lambda: consumer.handled == 1)
    assert notes("renamed") == 1 and CALLS["renamed"] == 1
    assert list(InboxRecord.objects.filter(event_id=event.id).values_list("handler", flat=True)) == [
        "note_write_for_user"]


def test_failing_handler_is_retried_then_parked_while_others_flow_and_replay_handles_it(service, broker, settings):
    Failure.objects.create(key="bad")
    with running(Consumer()) as consumer, running(Relay()):
        register("bad")
        register("good-1")
        register("good-2")
        wait_until(lambda: notes("good-1") == 1 and notes("good-2") == 1)
        wait_until(lambda: consumer.parked == 1)
        assert notes("bad") == 0
        # every attempt ran the handler: MAX_ATTEMPTS of them (3 in the test settings)
        assert CALLS["bad"] == settings.SHOPKIT_CONSUMER["MAX_ATTEMPTS"]

        parked = asyncio.run(parking.list_parked(broker, service))
        assert len(parked) == 1
        assert parked[0]["type"] == events.USER_REGISTERED
        assert "told to fail for bad" in parked[0]["error"]
        assert parked[0]["attempts"] == 3
        # listing takes nothing away
        assert len(asyncio.run(parking.list_parked(broker, service))) == 1

        Failure.objects.filter(key="bad").delete()  # the cause is mended
        call_command("parked_replay", "--all")
        wait_until(lambda: notes("bad") == 1)
    assert asyncio.run(parking.list_parked(broker, service)) == []


def test_refused_event_is_parked_at_once_with_its_reason_while_others_flow(service, broker):
    with running(Consumer()) as consumer, running(Relay()):
        register("refused-1")
        register("fine-1")
        wait_until(lambda: notes("fine-1") == 1 and consumer.parked == 1)
    assert CALLS["refused-1"] == 1  # no timed retries: none could succeed
    [parked] = asyncio.run(parking.list_parked(broker, service))
    assert parked["attempts"] == 1 and "refused-1 can never be noted" in parked["error"]
    assert notes("refused-1") == 0


def test_database_outage_is_waited_out_not_counted_against_the_event(service, broker, settings):
    max_attempts = settings.SHOPKIT_CONSUMER["MAX_ATTEMPTS"]
    try:
        with running(Consumer()) as consumer, running(Relay()):
            register("dbdown-1")  # its handler's first call takes the consumer's database away
            # The consumer gives the event back and waits for its database; it does not take the event again
            # meanwhile, so the outage can last longer than the event's attempts allow.
            wait_until(lambda: consumer.database_waits > max_attempts, timeout=60)
            assert CALLS["dbdown-1"] == 1 and not consumer.ready.is_set()
            bring_database_back()
            wait_until(lambda: notes("dbdown-1") == 1, timeout=60)
    finally:
        bring_database_back()
    assert CALLS["dbdown-1"] == 2  # the call the outage broke, and the one after it
    assert consumer.parked == 0


def test_an_error_raised_by_a_database_that_answers_counts_against_the_event(service, broker, settings):
    """A deadlock victim (any OperationalError of a server that is up) is the event's failure: retried with its
    attempts counted, then parked. Taken for an outage, it would never be parked, and every one of its returns
    would pause the consumer for everything else."""
    max_attempts = settings.SHOPKIT_CONSUMER["MAX_ATTEMPTS"]
    with running(Consumer()) as consumer, running(Relay()):
        register("dberror-1")
        register("fine-1")
        wait_until(lambda: consumer.parked == 1, timeout=30)
        wait_until(lambda: notes("fine-1") == 1)
    assert CALLS["dberror-1"] == max_attempts
    parked = asyncio.run(parking.list_parked(broker, service))
    assert [p["attempts"] for p in parked] == [max_attempts]
    assert "OperationalError" in parked[0]["error"]


class RecordingConsumer(Consumer):
    """A consumer that notes the headers of every delivery it gets."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.deliveries: list[dict] = []

    async def process_batch(self, messages, channel):
        self.deliveries.extend(dict(message.headers or {}) for message in messages)
        await super().process_batch(messages, channel)


def test_a_replica_cut_off_from_its_database_leaves_the_events_to_the_others(service, broker):
    """Two replicas share the queue; one loses its database. It must give back what it took, at once and
    uncounted, and take nothing more until its database answers — not hold events and bounce them through
    the retry queues, which delays each of them by seconds while the healthy replica sits idle."""
    keys = [f"cutoff-{i:02d}" for i in range(12)]
    try:
        with running(Consumer()) as cut_off:
            # Runs on the replica's own database thread: only its connections go nowhere.
            cut_off._db.submit(take_database_away).result()
            with running(RecordingConsumer()) as healthy, running(Relay()):
                for key in keys:
                    register(key)
                wait_until(lambda: Note.objects.filter(key__startswith="cutoff-").count() == len(keys),
                           timeout=60)
    finally:
        bring_database_back()
    assert sorted(Note.objects.filter(key__startswith="cutoff-").values_list("key", flat=True)) == keys
    assert cut_off.handled == 0 and cut_off.parked == 0 and healthy.parked == 0
    assert {key: CALLS[key] for key in keys} == {key: 1 for key in keys}
    # nothing reached the healthy replica by way of a retry queue (the broker adds x-death when it does)
    assert [h for h in healthy.deliveries if "x-death" in h] == []


class RelayWhoseDatabaseIsAway(Relay):
    """A relay whose first reads of the outbox fail as they do while the database restarts."""

    failures = 3

    def publish_pending(self):
        if self.failures:
            self.failures -= 1
            from django.db import OperationalError

            raise OperationalError("the database system is shutting down")
        return super().publish_pending()


def test_relay_waits_out_a_database_outage_instead_of_crashing(service, broker):
    register("after-db-outage")
    with running(Consumer()), running(RelayWhoseDatabaseIsAway()) as relay:
        wait_until(lambda: notes("after-db-outage") == 1, timeout=30)
    assert relay.failures == 0 and relay.published == 1


def test_parked_commands_list_and_replay_by_id(service, broker, capsys):
    with running(Consumer()) as consumer:
        publish_raw(broker, b"{not json", events.USER_REGISTERED, "garbage-1")
        register_event = build_event(events.USER_REGISTERED, {"user_id": "after", "email": "a@example.com",
                                                              "name": "A"}, source=f"/shop/{service}")
        publish_raw(broker, register_event.to_json(), events.USER_REGISTERED, register_event.id)
        wait_until(lambda: notes("after") == 1)  # the consumer did not crash on the garbage
        wait_until(lambda: consumer.parked == 1)
    call_command("parked_list")
    out = capsys.readouterr().out
    assert "garbage-1" in out and "invalid event" in out and "1 parked message(s)" in out
    with pytest.raises(Exception, match="not parked: nope"):
        call_command("parked_replay", "nope")
    call_command("parked_replay", "garbage-1")
    assert "replayed garbage-1" in capsys.readouterr().out


def test_correlation_id_is_carried_on_events(service, broker):
    with correlated("req-42"):
        register("corr")
    body = OutboxMessage.objects.get().body
    assert '"correlationid":"req-42"' in body


def test_stop_finishes_the_message_in_hand(service, broker):
    SLOW_STARTED.clear()
    with running(Relay()):
        consumer_run = running(Consumer())
        consumer = consumer_run.__enter__()
        register("slow-user", name="slow")
        assert SLOW_STARTED.wait(15)
        consumer_run.__exit__(None, None, None)  # asks it to stop while the handler sleeps
    assert notes("slow-user") == 1
    assert consumer.handled == 1  # handled and acked before it stopped: nothing left to redeliver


@pytest.mark.broker_outage
def test_events_wait_while_the_broker_is_down_and_go_out_in_order_after(service, broker):
    with running(Consumer()) as consumer, running(Relay()) as relay:
        register("warmup")
        wait_until(lambda: notes("warmup") == 1)
        rabbitmqctl("stop_app")
        try:
            for i in range(20):
                register(f"outage-{i:02d}")
            assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 20
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
        wait_until(lambda: Note.objects.filter(key__startswith="outage-").count() == 20, timeout=60)
        assert relay.ready.is_set() and consumer.ready.is_set()
    keys = list(Note.objects.filter(key__startswith="outage-").order_by("id").values_list("key", flat=True))
    assert keys == [f"outage-{i:02d}" for i in range(20)]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_prune_removes_only_rows_published_long_ago():
    from datetime import timedelta

    from django.utils import timezone

    for name in ("old", "recent", "pending"):
        register(name)
    old, recent, pending = OutboxMessage.objects.order_by("id")
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(hours=73))
    OutboxMessage.objects.filter(pk=recent.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    assert Relay().prune() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}


def test_ringing_removes_the_socket_a_killed_relay_left_behind():
    import socket as socket_module

    from shopkit.messaging.outbox import doorbell_dir, ring_doorbell

    stale = doorbell_dir() / "relay-killed.sock"
    with socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_DGRAM) as sock:
        sock.bind(str(stale))  # bound, then closed without unlinking: what SIGKILL leaves
    assert stale.exists()
    ring_doorbell()
    assert not stale.exists()


# --- batches: the deliveries at hand applied in one transaction ----------------------------------------------
def user_event(service: str, key: str, *, source: str | None = None):
    return build_event(events.USER_REGISTERED, {"user_id": key, "email": f"{key}@example.com", "name": key},
                       source=source or f"/shop/{service}")


def queue_up(url, consumer: Consumer, messages: list) -> None:
    """Declare ``consumer``'s queue and publish ``messages`` (events, or raw bodies with an id) into it, in order."""
    broker_call(url, consumer.declare)
    for message in messages:
        if isinstance(message, tuple):
            publish_raw(url, message[1], events.USER_REGISTERED, message[0])
        else:
            publish_raw(url, message.to_json(), events.USER_REGISTERED, message.id)


def process_as_one_batch(url, consumer: Consumer, count: int) -> None:
    """Take ``count`` waiting deliveries of ``consumer``'s queue and hand them to it as one batch, as its loop
    does with the deliveries at hand (which ones arrive together in the loop depends on timing)."""
    async def go():
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.set_qos(prefetch_count=count)
            queue = await consumer.declare(channel)
            messages = []
            while len(messages) < count:
                message = await queue.get(timeout=5, fail=False)
                if message is None:
                    await asyncio.sleep(0.05)
                else:
                    messages.append(message)
            await consumer.process_batch(messages, channel)
    try:
        asyncio.run(go())
    finally:
        from django.db import connections

        consumer._db.submit(connections.close_all).result()


def test_a_batch_applies_each_good_event_once_and_parks_or_retries_each_bad_one_alone(service, broker, settings):
    max_attempts = settings.SHOPKIT_CONSUMER["MAX_ATTEMPTS"]
    Failure.objects.create(key="b-flaky")
    good_a, flaky, refused, good_b = (user_event(service, key) for key in ("b-good-a", "b-flaky", "refused-b",
                                                                             "b-good-b"))
    forged = user_event(service, "b-forged", source="/shop/order")
    batch = [good_a, flaky, refused, forged, (good_b.id, good_b.to_json()), (good_a.id, good_a.to_json())]
    consumer = Consumer()
    queue_up(broker, consumer, batch)
    process_as_one_batch(broker, consumer, len(batch))

    assert (notes("b-good-a"), notes("b-good-b"), notes("b-flaky"), notes("refused-b")) == (1, 1, 0, 0)
    assert CALLS["b-flaky"] == 1 and CALLS["refused-b"] == 1  # each failure ran once in this delivery
    assert CALLS["b-forged"] == 0
    assert consumer.handled == 3  # good-a, good-b, and good-a's duplicate, which the inbox absorbed
    assert InboxRecord.objects.filter(event_id=good_a.id).count() == 1
    assert consumer.parked == 2  # the refused and the forged one, at once

    # Only the flaky one comes back (from its retry queue), until it is parked after its own attempts.
    with running(RecordingConsumer()) as later:
        wait_until(lambda: later.parked == 1, timeout=30)
    assert later.handled == 0 and len(later.deliveries) == max_attempts - 1
    assert CALLS["b-flaky"] == max_attempts
    parked = {p["message_id"]: p["attempts"] for p in asyncio.run(parking.list_parked(broker, service))}
    assert parked == {refused.id: 1, forged.id: 1, flaky.id: max_attempts}


def test_a_database_error_in_a_batch_costs_only_its_own_event_an_attempt(service, broker, settings):
    # A deadlock victim breaks the whole transaction (MySQL rolls it back, PostgreSQL aborts it): the others are
    # applied again, each in its own transaction, and only the victim's attempt is counted.
    batch = [user_event(service, key) for key in ("d-good-a", "dberror-b", "d-good-c")]
    consumer = Consumer()
    queue_up(broker, consumer, batch)
    process_as_one_batch(broker, consumer, len(batch))
    assert (notes("d-good-a"), notes("d-good-c")) == (1, 1)
    assert CALLS["dberror-b"] == 1 and consumer.handled == 2 and consumer.parked == 0
    with running(Consumer()) as later:
        wait_until(lambda: later.parked == 1, timeout=30)
    assert later.handled == 0 and CALLS["dberror-b"] == settings.SHOPKIT_CONSUMER["MAX_ATTEMPTS"]
    assert (notes("d-good-a"), notes("d-good-c")) == (1, 1)


def test_a_database_outage_mid_batch_gives_the_whole_batch_back_uncounted(service, broker):
    from shopkit.messaging.consumer import DatabaseAway

    batch = [user_event(service, key) for key in ("o-good-a", "dbdown-b", "o-good-c")]
    consumer = Consumer()
    queue_up(broker, consumer, batch)
    try:
        with pytest.raises(DatabaseAway):
            process_as_one_batch(broker, consumer, len(batch))
        assert consumer.handled == 0 and consumer.parked == 0
    finally:
        bring_database_back()
    assert (notes("o-good-a"), notes("dbdown-b"), notes("o-good-c")) == (0, 0, 0)  # nothing committed
    with running(RecordingConsumer()) as later:
        wait_until(lambda: later.handled == 3, timeout=30)
    assert (notes("o-good-a"), notes("dbdown-b"), notes("o-good-c")) == (1, 1, 1)
    assert CALLS["dbdown-b"] == 2 and later.parked == 0
    assert [h for h in later.deliveries if ATTEMPT_HEADER in h or "x-death" in h] == []  # never counted


def test_two_transactions_recording_one_event_in_the_inbox_apply_it_once(service):
    """Two replicas got the same event: the second insert waits for the first transaction, then finds the row
    (or inserts it when the first rolled back)."""
    import threading

    from django.db import connections

    from shopkit.messaging.consumer import record_in_inbox

    event = user_event(service, "race")
    for first_commits in (False, True):
        results = {}
        inserted, release = threading.Event(), threading.Event()

        def first():
            try:
                with transaction.atomic():
                    results["first"] = record_in_inbox(event, "racer")
                    inserted.set()
                    release.wait(10)
                    if not first_commits:
                        raise RuntimeError("the first replica's handler failed")
            except RuntimeError:
                pass
            finally:
                connections.close_all()

        def second():
            try:
                inserted.wait(10)
                with transaction.atomic():
                    results["second"] = record_in_inbox(event, "racer")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        inserted.wait(10)
        threads[1].join(0.5)  # the second is waiting on the first's row (or, on SQLite, for the write lock)
        assert threads[1].is_alive()
        release.set()
        for thread in threads:
            thread.join(30)
        assert results == {"first": True, "second": not first_commits}
        if not first_commits:
            InboxRecord.objects.filter(event_id=event.id).delete()  # the second's row: a clean start for the next
    assert InboxRecord.objects.filter(event_id=event.id, handler="racer").count() == 1


def test_a_transaction_rings_the_doorbell_once_for_all_its_events():
    import socket as socket_module

    from shopkit.messaging.outbox import doorbell_dir

    path = doorbell_dir() / "relay-test-count.sock"
    path.unlink(missing_ok=True)
    with socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_DGRAM) as bell:
        bell.bind(str(path))
        bell.setblocking(False)

        def rings() -> int:
            count = 0
            try:
                while bell.recv(64):
                    count += 1
            except BlockingIOError:
                return count

        try:
            with transaction.atomic():
                for i in range(5):
                    emit(events.STOCK_RELEASED, {"order_id": f"o{i}"})
            assert rings() == 1
            with transaction.atomic():
                with pytest.raises(ZeroDivisionError):
                    with transaction.atomic():  # a savepoint: its ring goes with it …
                        emit(events.STOCK_RELEASED, {"order_id": "gone"})
                        1 / 0
                emit(events.STOCK_RELEASED, {"order_id": "kept"})  # … so this event rings again
            assert rings() == 1
            with pytest.raises(ZeroDivisionError):
                with transaction.atomic():
                    emit(events.STOCK_RELEASED, {"order_id": "rolled-back"})
                    1 / 0
            assert rings() == 0
        finally:
            path.unlink(missing_ok=True)


def test_stop_finishes_and_acks_the_batch_in_hand(service, broker):
    SLOW_STARTED.clear()
    slow = build_event(events.USER_REGISTERED, {"user_id": "s-slow", "email": "s@example.com", "name": "slow"},
                       source=f"/shop/{service}")
    keys = ["s-1", "s-2", "s-3"]
    queue_up(broker, Consumer(), [slow] + [user_event(service, key) for key in keys])
    first_run = running(Consumer())
    first = first_run.__enter__()
    assert SLOW_STARTED.wait(15)
    first_run.__exit__(None, None, None)  # asks it to stop while the batch's first handler sleeps
    applied = Note.objects.filter(key__in=["s-slow"] + keys).count()
    assert applied >= 1 and first.handled == applied  # every effect it committed, it also acked
    with running(Consumer()) as second:
        wait_until(lambda: Note.objects.filter(key__in=["s-slow"] + keys).count() == 4)

    async def waiting(channel):
        queue = await channel.declare_queue(second.names.main, passive=True)
        return queue.declaration_result.message_count
    # nothing the first acked came again, and nothing is left over (what the second held went back on its stop)
    assert second.handled == 4 - applied and broker_call(broker, waiting) == 0
