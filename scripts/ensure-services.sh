#!/usr/bin/env bash
# Start the local services the tests talk to (PostgreSQL, RabbitMQ, Redis) when they are not answering.
# Safe to run any number of times. The commands are those this machine's services are installed with.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # name port seconds
  for _ in $(seq 1 "$3"); do port_open "$2" && return 0; sleep 1; done
  echo "ensure-services: $1 did not come up on port $2" >&2
  return 1
}

status=0
if ! port_open 5432; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port PostgreSQL 5432 30 || status=1
fi
if ! port_open 5672; then
  echo "starting RabbitMQ" >&2
  rabbitmq-server -detached || true
  wait_port RabbitMQ 5672 90 || status=1
fi
if ! port_open 6379; then
  echo "starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_port Redis 6379 30 || status=1
fi
exit $status
