#!/usr/bin/env bash
# Runs every test of the project on a machine that has only the .NET SDK:
# installs Debian's chromium and postgresql when they are missing, restores the local tools,
# builds, runs Console.Tests on SQLite and again on a private PostgreSQL cluster (started here on
# a free 127.0.0.1 port in a temporary folder, stopped on exit even on failure), then e2e, and
# ends with one line "N passed, N failed".
# Exit status: 0 only when everything built and every test passed.
set -uo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration="${CONFIGURATION:-Debug}"
results="$(pwd)/TestResults"
rm -rf "$results"
mkdir -p "$results"

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
  step "installing chromium (Debian package) for the e2e tests"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null \
    || { echo "could not install chromium"; echo "0 passed, 1 failed"; exit 1; }
fi

pg_dir="$(mktemp -d /tmp/dc-test-pg.XXXXXX)"
stop_postgres() { scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1; rm -rf "$pg_dir"; }
trap stop_postgres EXIT
step "starting a private PostgreSQL cluster"
# fsync off: a test cluster thrown away at the end needs no durability, and it halves the run.
if ! pg_server="$(PG_FSYNC=off scripts/postgres.sh start "$pg_dir")"; then
  echo "could not start PostgreSQL"; echo "0 passed, 1 failed"; exit 1
fi
echo "PostgreSQL at $pg_server"

step "restoring local tools"
dotnet tool restore >/dev/null || { echo "dotnet tool restore failed"; echo "0 passed, 1 failed"; exit 1; }

step "building ($configuration)"
if ! dotnet build DeliveryConsole.sln -c "$configuration" -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

run_suite() {
  local name="$1" project="$2"
  step "running $name"
  dotnet test "$project" -c "$configuration" --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" --blame-hang-timeout 5m
}

status=0
run_suite unit Console.Tests/Console.Tests.csproj || status=1
DC_TEST_POSTGRES="$pg_server" run_suite unit-postgres Console.Tests/Console.Tests.csproj || status=1
run_suite e2e e2e/DeliveryConsole.E2E.csproj || status=1

passed=0
failed=0
for suite in unit unit-postgres e2e; do
  trx="$results/$suite.trx"
  if [ ! -f "$trx" ]; then
    echo "$suite: no results (the test host did not finish)"
    failed=$((failed + 1))
    continue
  fi
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
