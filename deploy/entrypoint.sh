#!/bin/sh
# Entry point of the sitewatch image: the database URL carries the password of the
# pg_password secret when that secret is mounted (the api service), then the command runs.
set -e
if [ -z "$SITEWATCH_DATABASE_URL" ] && [ -r /run/secrets/pg_password ]; then
  SITEWATCH_DATABASE_URL="postgresql+psycopg://sitewatch:$(cat /run/secrets/pg_password)@postgres/sitewatch"
  export SITEWATCH_DATABASE_URL
fi
exec "$@"
