#!/bin/sh
# TEST ONLY: the official image's `healthcheck.sh --connect --innodb_initialized`, as far as compose uses it.
exec mariadb -h 127.0.0.1 -u "$MARIADB_USER" -p"$MARIADB_PASSWORD" -e "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE='InnoDB' AND SUPPORT IN ('YES','DEFAULT')" >/dev/null
