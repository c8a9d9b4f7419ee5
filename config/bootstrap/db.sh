#!/usr/bin/env bash
# Starts or stops the PostgreSQL/PostGIS cluster Taamir uses and creates its database.
#   db.sh start | stop
# With DATABASE_URL set, nothing is started: that database is used as it is.
# As root: Debian's own cluster (initdb/postgres refuse root; a root-only clone is unreadable to the
# postgres user), with a superuser role named after root so peer authentication works.
# As a normal user: a private cluster under var/pg, listening only on a Unix socket in var/pg/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
action=${1:-start}
PG_VERSION=${PG_VERSION:-15}
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
DB_NAME=${TAAMIR_DB_NAME:-taamir}
PORT=${TAAMIR_PG_PORT:-54329}

if [ -n "${DATABASE_URL:-}" ]; then
  echo "DATABASE_URL is set: using that database, nothing to $action."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  if [ "$action" = stop ]; then pg_ctlcluster "$PG_VERSION" main stop || true; exit 0; fi
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$PG_VERSION main$"; then
    pg_createcluster "$PG_VERSION" main
  fi
  pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $4}' | grep -q online \
    || pg_ctlcluster "$PG_VERSION" main start
  for _ in $(seq 1 30); do pg_isready -q && break; sleep 0.5; done
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1 \
    || su postgres -c "psql -qc 'CREATE ROLE root SUPERUSER LOGIN'"
  psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
    || createdb "$DB_NAME"
  exit 0
fi

DATA=var/pg/data
RUN=$PWD/var/pg/run
if [ "$action" = stop ]; then
  [ -f "$DATA/postmaster.pid" ] && "$PG_BIN/pg_ctl" -D "$DATA" -m fast stop || true
  exit 0
fi
mkdir -p "$RUN" var/log
if [ ! -f "$DATA/PG_VERSION" ]; then
  "$PG_BIN/initdb" -D "$DATA" -U "$(id -un)" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  "$PG_BIN/pg_ctl" -D "$DATA" -l var/log/postgresql.log -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$RUN' -p $PORT" start >/dev/null
fi
psql -h "$RUN" -p "$PORT" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
  || createdb -h "$RUN" -p "$PORT" "$DB_NAME"
