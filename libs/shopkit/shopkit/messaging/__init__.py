"""Reliable events: the transactional outbox, the relay to RabbitMQ, and the consumer runner with its inbox."""
