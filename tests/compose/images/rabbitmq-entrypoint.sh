#!/bin/sh
# TEST ONLY: the default user from the environment, the management UI on, logs to the console.
set -eu
cat >/etc/rabbitmq/conf.d/10-defaults.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
loopback_users = none
listeners.tcp.default = 5672
management.tcp.port = 15672
log.console = true
log.file = false
CONF
exec rabbitmq-server
