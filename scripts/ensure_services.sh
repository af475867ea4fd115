#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer.
# Start either one when it is installed but stopped; otherwise stop with a
# message that names the missing service.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

wait_for() {
  local check=$1
  for _ in $(seq 1 30); do
    "$check" && return 0
    sleep 1
  done
  return 1
}

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    wait_for pg_up || { echo "PostgreSQL failed to start on 127.0.0.1:5432." >&2; exit 1; }
  else
    echo "PostgreSQL is missing: install PostgreSQL 15 and let user postgres connect on 127.0.0.1:5432." >&2
    exit 1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is not answering on 127.0.0.1:6379; starting it."
    mkdir -p /tmp/trust-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp/trust-redis --logfile /tmp/trust-redis/redis.log
    wait_for redis_up || { echo "Redis failed to start on 127.0.0.1:6379." >&2; exit 1; }
  else
    echo "Redis is missing: install redis-server and let it listen on 127.0.0.1:6379." >&2
    exit 1
  fi
fi

# The test settings name the database "trust"; pytest-django creates
# test_trust beside it, and Django warns when the named database is missing.
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'trust'" | grep -q 1; then
  createdb -h 127.0.0.1 -U postgres trust
fi
