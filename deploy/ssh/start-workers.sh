#!/bin/sh
# Starts one backfill worker on each host given, over ssh, and waits for them all:
#   LEDGER_URL='postgresql://USER:PASSWORD@HOST:5432/DB' deploy/ssh/start-workers.sh host1 host2 host3
# Each host needs backfill installed and the runbook (with its source) in $BACKFILL_DIR (default
# /srv/backfill). The ledger URL goes to each worker on ssh's standard input, never in a command line
# (which `ps` on either host would show), and the runbook reads it as ${secret:LEDGER_URL}.
# Each worker serves Prometheus metrics on port $BACKFILL_METRICS_PORT (default 9464) of every interface
# of its host ($BACKFILL_METRICS_HOST, default 0.0.0.0), for a Prometheus elsewhere to scrape at
# http://HOST:9464/metrics. They carry no secret, but firewall the port to the scraper (or set
# BACKFILL_METRICS_HOST to the host's private address, or 127.0.0.1 for an agent on the host).
set -eu
: "${LEDGER_URL:?export LEDGER_URL, the ledger database URL}"
dir=${BACKFILL_DIR:-/srv/backfill}
runbook=${BACKFILL_RUNBOOK:-orders.backfill}
cell=${BACKFILL_CELL:-resend}
env=${BACKFILL_ENV:-production}
metrics_host=${BACKFILL_METRICS_HOST:-0.0.0.0}
metrics_port=${BACKFILL_METRICS_PORT:-9464}
for host in "$@"; do
  printf '%s\n' "$LEDGER_URL" | ssh "$host" "read -r LEDGER_URL && export LEDGER_URL && cd '$dir' && \
exec backfill worker '$dir/$runbook' --cell '$cell' --env '$env' \
--metrics-host '$metrics_host' --metrics-port '$metrics_port' >>backfill-worker.log 2>&1" &
done
wait
