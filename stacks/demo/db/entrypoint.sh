#!/bin/bash
# First start: initdb with the superuser password from its Docker secret, create the app's role and schema.
# Every start: make sure the app role's password matches its secret (rotation), then run postgres in front.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
install -d -o postgres -g postgres -m 0700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  as_postgres "$BIN/initdb" --username=postgres --pwfile=/run/secrets/POSTGRES_PASSWORD --auth-local=peer \
    --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  printf "listen_addresses = '*'\npassword_encryption = scram-sha-256\n" >> "$PGDATA/postgresql.conf"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
as_postgres "$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
# psql reads the password from the secret file itself (\set with a backquoted cat), so it is never on a
# command line.
as_postgres psql -v ON_ERROR_STOP=1 -q <<'SQL'
\set app_password `cat /run/secrets/APP_DB_PASSWORD`
SELECT 'CREATE ROLE app LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app')\gexec
ALTER ROLE app PASSWORD :'app_password';
SELECT 'CREATE DATABASE crvs OWNER app' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'crvs')\gexec
SQL
as_postgres psql -v ON_ERROR_STOP=1 -q -d crvs -f /usr/local/lib/crvs-db/schema.sql
as_postgres "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
exec setpriv --reuid=postgres --regid=postgres --init-groups "$BIN/postgres" -D "$PGDATA"
