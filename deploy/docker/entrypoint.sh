#!/bin/sh
# The image's entrypoint: picks what runs from the first argument or SERVICE, then execs Node so
# that it is PID 1 and receives SIGTERM directly (each service drains its batch and commits).
set -eu

usage() {
  echo "usage: vigil <ingest|correlation|siem-forwarder|alert-router|soar|topics|standins [args]>  (or set SERVICE)" >&2
  exit 64
}

if [ "$#" -gt 0 ]; then
  what="$1"
  shift
else
  what="${SERVICE:-}"
fi

case "$what" in
  ingest | correlation | siem-forwarder | alert-router | soar)
    export SERVICE="$what"
    # Each service runs from its own folder: relative paths in its config resolve there.
    cd "/app/apps/$what"
    exec node dist/main.js "$@"
    ;;
  topics)
    # The admin step: every topic in @vigil/contracts, partitions/replication from KAFKA_TOPIC_*.
    exec node /app/tools/dist/cli.js infra topics
    ;;
  standins)
    exec node /app/tools/dist/cli.js standins "$@"
    ;;
  node | sh)
    exec "$what" "$@"
    ;;
  *)
    usage
    ;;
esac
