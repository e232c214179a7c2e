#!/usr/bin/env bash
# Start PostgreSQL, MariaDB, RabbitMQ and Redis when one is not running (this machine kind starts them
# before a session, but CI must not depend on that), and wait until each answers.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # name port
  for _ in $(seq 1 60); do listening "$2" && return 0; sleep 1; done
  echo "error: $1 did not come up on port $2" >&2; return 1
}

if ! listening 5432; then
  echo "starting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! listening 3306; then
  echo "starting MariaDB"; start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
if ! listening 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! listening 5672; then
  echo "starting RabbitMQ"; rabbitmq-server -detached
fi
wait_for PostgreSQL 5432
wait_for MariaDB 3306
wait_for RabbitMQ 5672
rabbitmqctl -q await_startup
