#!/usr/bin/env bash
# Runs a command (default: the test suite) beside a throwaway PostgreSQL server: installs Debian's
# `postgresql` when `pg_ctl` is missing (as root), creates a cluster in a temporary folder (as the
# `postgres` user when run as root: initdb and pg_ctl refuse root), starts it on a free port of
# 127.0.0.1 with its socket in that folder, and exports LETHE_TEST_POSTGRES_URL for the command (and
# LETHE_TEST_POSTGRES_RESTART, a script that starts and restarts a second server, for the restart test). The
# servers are stopped and its folder removed afterwards, whatever the command's outcome.
# When no server can be started, the command still runs: LETHE_TEST_POSTGRES_UNAVAILABLE says why, and
# the PostgreSQL tests report themselves skipped with that reason.
#
#   bash scripts/test-postgres.sh                      # swift test --skip-build
#   bash scripts/test-postgres.sh swift test --filter StoreConformance
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then set -- swift test --skip-build; fi

unavailable() {
    echo "test-postgres: PostgreSQL tests will be skipped: $1" >&2
    export LETHE_TEST_POSTGRES_UNAVAILABLE="$1"
    unset LETHE_TEST_POSTGRES_URL LETHE_TEST_POSTGRES_RESTART
    exec "$@"
}

find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return 0; fi
    return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test-postgres: installing Debian's postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2; }; then
            unavailable "installing Debian's postgresql failed" "$@"
        fi
        bindir=$(find_bindir || true)
    fi
    [ -n "$bindir" ] || unavailable "pg_ctl and initdb are not installed (apt-get install postgresql)" "$@"
fi

run_as=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || unavailable "there is no postgres user to run the server as" "$@"
    run_as=(runuser -u postgres --)
fi

folder=$(mktemp -d /tmp/lethe-postgres.XXXXXX)
chmod 700 "$folder"
[ ${#run_as[@]} -eq 0 ] || chown postgres: "$folder"
stop() {
    "${run_as[@]}" "$bindir/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1 || true
    [ ! -d "$folder/restartable/data" ] || "${run_as[@]}" "$bindir/pg_ctl" -D "$folder/restartable/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap stop EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
printf '%s\n' "$password" >"$folder/password"
[ ${#run_as[@]} -eq 0 ] || chown postgres: "$folder/password"
chmod 600 "$folder/password"

if ! "${run_as[@]}" "$bindir/initdb" -D "$folder/data" -U lethe --pwfile="$folder/password" -A scram-sha-256 -E UTF8 --locale=C \
    >"$folder/initdb.log" 2>&1; then
    reason="initdb failed: $(tail -n 1 "$folder/initdb.log")"
    stop; trap - EXIT
    unavailable "$reason" "$@"
fi
rm -f "$folder/password"
# A test server: no durability needed, quick to stop. A benchmark (LETHE_TEST_POSTGRES_DURABLE=1) keeps
# PostgreSQL's durable defaults, as SQLite keeps its own, and a cache sized like a small production server.
settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${LETHE_TEST_POSTGRES_DURABLE:-}" != 1 ] || settings="-c shared_buffers=512MB -c max_wal_size=4GB"
options="-p $port -k $folder -c listen_addresses=127.0.0.1 $settings -c max_connections=200"
if ! "${run_as[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 -o "$options" start >/dev/null 2>&1; then
    reason="the server did not start: $(tail -n 1 "$folder/server.log" 2>/dev/null)"
    stop; trap - EXIT
    unavailable "$reason" "$@"
fi

# LETHE_TEST_POSTGRES_RESTART: a script for the tests of a server restart mid-run, on a second server of
# their own (restarting this one would cut the sessions of the tests running beside them). `… start`
# creates and starts it (once, in this folder, same user and password, a free port) and prints its URL;
# `… restart` restarts it as it was started (a fast shutdown: every session cut) and returns once it
# accepts connections again. The script first closes every descriptor it inherited beyond stdin, stdout
# and stderr: the server would keep them open for its lifetime, and a caller that waits for its pipes
# or sockets to close (as Foundation's Process does to notice an exit) would wait for the server's end
# instead of the script's.
{
    echo '#!/usr/bin/env bash'
    echo 'set -euo pipefail'
    echo 'for fd in /dev/fd/*; do fd=${fd##*/}; [ "$fd" -le 2 ] || [ "$fd" -eq 255 ] || eval "exec $fd>&-"; done'
    if [ ${#run_as[@]} -eq 0 ]; then echo 'run_as=()'; else printf 'run_as=(%s)\n' "$(printf '%q ' "${run_as[@]}")"; fi
    printf 'bindir=%q folder=%q settings=%q password=%q\n' "$bindir" "$folder/restartable" "$settings" "$password"
    cat <<'SCRIPT'
options() { echo "-p $(cat "$folder/port") -k $folder -c listen_addresses=127.0.0.1 $settings -c max_connections=50"; }
case "${1:-}" in
start)
    if [ ! -f "$folder/port" ]; then
        mkdir -p -m 700 "$folder"
        [ ${#run_as[@]} -eq 0 ] || chown postgres: "$folder"
        (umask 077; printf '%s\n' "$password" >"$folder/password")
        [ ${#run_as[@]} -eq 0 ] || chown postgres: "$folder/password"
        "${run_as[@]}" "$bindir/initdb" -D "$folder/data" -U lethe --pwfile="$folder/password" -A scram-sha-256 -E UTF8 --locale=C \
            >"$folder/initdb.log" 2>&1 || { tail -n 1 "$folder/initdb.log" >&2; exit 1; }
        rm -f "$folder/password"
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$folder/port"
        "${run_as[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 -o "$(options)" start >/dev/null
    fi
    echo "postgres://lethe:$password@127.0.0.1:$(cat "$folder/port")/postgres?sslmode=disable" ;;
restart)
    "${run_as[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 -o "$(options)" -m fast restart >/dev/null ;;
*)
    echo "usage: $0 start | restart" >&2
    exit 2 ;;
esac
SCRIPT
} >"$folder/restart"
chmod 700 "$folder/restart"
export LETHE_TEST_POSTGRES_RESTART="$folder/restart"
export LETHE_TEST_POSTGRES_URL="postgres://lethe:$password@127.0.0.1:$port/postgres?sslmode=disable"
echo "test-postgres: PostgreSQL ($bindir) on 127.0.0.1:$port" >&2
status=0
"$@" || status=$?
exit $status
