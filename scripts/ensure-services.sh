#!/usr/bin/env bash
# Start PostgreSQL and Redis on this machine if they are not answering; fail loudly otherwise.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it ..."
  command -v pg_ctlcluster >/dev/null || { echo "ERROR: pg_ctlcluster not found: install PostgreSQL 15." >&2; exit 1; }
  version=$(ls /etc/postgresql | head -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "ERROR: PostgreSQL did not start." >&2; exit 1; }
fi

if ! redis_up; then
  echo "Redis is not answering on 127.0.0.1:6379; starting it ..."
  command -v redis-server >/dev/null || { echo "ERROR: redis-server not found: install Redis." >&2; exit 1; }
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "ERROR: Redis did not start." >&2; exit 1; }
fi
# The database the checks connect to (pytest creates its own test_ database beside it).
db="${PLATFORM_DB:-platform}"
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  createdb -h 127.0.0.1 -U postgres "$db"
  echo "Created database $db."
fi
echo "PostgreSQL and Redis are up."
