#!/usr/bin/env bash
# Adds a migration named $1 for both providers: SQLite's in Console/Data/Migrations, PostgreSQL's
# in Console/Data/Migrations/Postgres (one EF model, one migration set per provider).
# `dotnet ef` looks for the model snapshot by file name anywhere in the project, so each run
# hides the other provider's snapshot while it works.
set -euo pipefail
name="${1:?usage: scripts/add-migration.sh MigrationName}"
cd "$(dirname "$0")/../Console"
dotnet tool restore >/dev/null

sqlite_snapshot=Data/Migrations/AppDbContextModelSnapshot.cs
postgres_snapshot=Data/Migrations/Postgres/AppDbContextModelSnapshot.cs
restore() {
  [ -f "$sqlite_snapshot.hidden" ] && mv "$sqlite_snapshot.hidden" "$sqlite_snapshot"
  [ -f "$postgres_snapshot.hidden" ] && mv "$postgres_snapshot.hidden" "$postgres_snapshot"
  true
}
trap restore EXIT

[ -f "$postgres_snapshot" ] && mv "$postgres_snapshot" "$postgres_snapshot.hidden"
dotnet ef migrations add "$name" --output-dir Data/Migrations --namespace DeliveryConsole.Data.Migrations
restore

mv "$sqlite_snapshot" "$sqlite_snapshot.hidden"
dotnet ef migrations add "$name" --output-dir Data/Migrations/Postgres --namespace DeliveryConsole.Data.Migrations.Postgres -- --provider Postgres
restore
