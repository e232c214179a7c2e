"""What a handler may answer besides success: a refusal, for an event that can never succeed as it is."""


class EventRefused(Exception):
    """Raised by a handler (or the service it calls) for an event that no retry can make succeed: news of an
    order this service never had, shipping what is not held. It is an inconsistency for a person to look at.

    The handler's transaction rolls back (inbox record included) and the consumer parks the event at once,
    with this message as its reason, instead of retrying it; once the cause is mended, ``parked_replay`` puts
    it back. A handler's business outcomes are not refusals: they are state changes and events (a reservation
    that fails emits stock.reservation_failed); and a failure that may pass (the database away, a lost race)
    is raised as it is and retried.
    """
