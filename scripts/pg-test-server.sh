#!/usr/bin/env bash
# Starts a local PostgreSQL 15 for the backend contract suite and prints its URL on stdout:
#   postgres://sluice:<password>@127.0.0.1:<port>/sluice_test
# Idempotent: safe to run again while the server is up. Everything it says goes to stderr, so
#   export SLUICE_TEST_PG_URL="$(scripts/pg-test-server.sh)"
# works. Needs root (or the postgres user's rights): it installs, creates and starts the cluster.
# SLUICE_TEST_PG_PASSWORD overrides the role's password (a throwaway test server by default).
set -euo pipefail

VERSION=15
CLUSTER=main
ROLE=sluice
DATABASE=sluice_test
PASSWORD="${SLUICE_TEST_PG_PASSWORD:-sluice-test}"

say() { echo "pg-test-server: $*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres -- "$@"; fi
}

install_server() {
  if [ -x "/usr/lib/postgresql/$VERSION/bin/postgres" ] && command -v pg_ctlcluster >/dev/null; then return; fi
  say "installing PostgreSQL $VERSION"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "postgresql-$VERSION" >&2 || apt-get install -y -qq postgresql >&2
}

ensure_cluster() {
  if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    say "creating cluster $VERSION/$CLUSTER"
    pg_createcluster "$VERSION" "$CLUSTER" >&2
  fi
}

# Password (SCRAM) authentication for the test role over TCP on 127.0.0.1, ahead of any other line.
ensure_hba() {
  local hba="/etc/postgresql/$VERSION/$CLUSTER/pg_hba.conf"
  local line="host    all    $ROLE    127.0.0.1/32    scram-sha-256"
  if ! grep -qE "^host[[:space:]]+all[[:space:]]+$ROLE[[:space:]]+127\.0\.0\.1/32[[:space:]]+scram-sha-256" "$hba"; then
    say "allowing password login for $ROLE on 127.0.0.1 in $hba"
    { echo "# sluice tests (scripts/pg-test-server.sh)"; echo "$line"; cat "$hba"; } >"$hba.sluice-tmp"
    chown --reference="$hba" "$hba.sluice-tmp"
    chmod --reference="$hba" "$hba.sluice-tmp"
    mv "$hba.sluice-tmp" "$hba"
  fi
}

start_cluster() {
  if pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
    pg_ctlcluster "$VERSION" "$CLUSTER" reload >&2
  else
    say "starting cluster $VERSION/$CLUSTER"
    pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start >&2
  fi
}

wait_ready() {
  local port="$1"
  for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then return; fi
    sleep 0.5
  done
  say "the server did not become ready on 127.0.0.1:$port within 30 s"
  exit 1
}

ensure_role_and_database() {
  local port="$1"
  # Dollar-quoting keeps any password text literal; the DO block makes CREATE ROLE idempotent.
  as_postgres psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >&2 <<SQL
DO \$do\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN;
  END IF;
END
\$do\$;
ALTER ROLE $ROLE WITH LOGIN PASSWORD \$pw\$$PASSWORD\$pw\$;
SQL
  if [ "$(as_postgres psql -tAq -p "$port" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
    say "creating database $DATABASE owned by $ROLE"
    as_postgres createdb -p "$port" -O "$ROLE" "$DATABASE" >&2
  fi
}

install_server
ensure_cluster
ensure_hba
start_cluster
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')"
wait_ready "$PORT"
ensure_role_and_database "$PORT"
URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
# The URL must work as given: check the password login end to end.
PGPASSWORD="$PASSWORD" psql -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DATABASE" -c 'SELECT 1' >/dev/null
say "ready: ${URL/:$PASSWORD@/:***@}"
echo "$URL"
