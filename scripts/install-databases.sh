#!/usr/bin/env bash
# Installs PostgreSQL 15 and RabbitMQ from Debian for the database and queue tests, which start their own
# servers on free ports (test/support/postgresServer.ts, rabbitmqServer.ts). The packages start nothing
# (there is no service manager). Only what is missing is installed, so a prepared machine never touches apt.
set -euo pipefail

missing=()
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || missing+=(rabbitmq-server)
if ((${#missing[@]} == 0)); then exit 0; fi
echo "== install-databases: installing Debian packages: ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
