#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and local runs: never touches system services.
#   scripts/postgres.sh start DIR   initdb in DIR (if new), start on a free 127.0.0.1 port, print
#                                   the connection string of its superuser on stdout
#   scripts/postgres.sh stop DIR    stop it (fast shutdown)
# Installs Debian's postgresql package when no PostgreSQL binaries are found (as root or via sudo).
# As root, initdb and pg_ctl run as the postgres user (initdb refuses root).
# PG_FSYNC=off turns fsync off (tests); PG_OPTIONS adds server options, e.g.
#   PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements" (the throughput bench's per-statement split).
set -euo pipefail
verb="${1:?usage: postgres.sh start|stop DIR}"
dir="${2:?usage: postgres.sh start|stop DIR}"

find_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/pg_ctl" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin="$(find_bin || true)"
if [ -z "$bin" ]; then
  echo "installing postgresql (Debian package)" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
  bin="$(find_bin)"
fi

case "$verb" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" --locale=C.UTF-8 -E UTF8 -U postgres --auth=trust >/dev/null
    fi
    port=""
    for _ in $(seq 1 50); do
      candidate=$(( 20000 + RANDOM % 40000 ))
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
    done
    [ -n "$port" ] || { echo "no free port found" >&2; exit 1; }
    # Tests open many short-lived databases and several connection pools at once.
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c fsync=${PG_FSYNC:-on} -c shared_buffers=256MB ${PG_OPTIONS:-}" start >/dev/null
    echo "$port" >"$dir/port"
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
