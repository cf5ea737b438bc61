#!/bin/sh
# The image's entrypoint (Dockerfile): the first argument picks the process.
#   server [flags]   noetl-server (the control plane)
#   worker           noetl-worker (configured by environment)
#   healthcheck      exit 0 when this container's process answers its health route
#   anything else    the noetl CLI (noetl run playbook.yaml, noetl --help, ...)
set -eu
APP="${NOETL_APP_DIR:-/usr/local/lib/node_modules/noetl}"
case "${1:-server}" in
  server)
    [ "$#" -gt 0 ] && shift
    # Replicas of a StatefulSet (noetl-server-0, -1, ...) each get their own snowflake machine id.
    if [ -z "${NOETL_SERVER_MACHINE_ID:-}" ]; then
      ordinal="$(hostname | sed -n 's/.*-\([0-9][0-9]*\)$/\1/p')"
      [ -n "$ordinal" ] && export NOETL_SERVER_MACHINE_ID="$((ordinal + 1))"
    fi
    exec node "$APP/bin/noetl-server.js" "$@" ;;
  worker)
    shift
    exec node "$APP/bin/noetl-worker.js" "$@" ;;
  healthcheck)
    # The server answers /health on NOETL_PORT; a worker answers /health on WORKER_METRICS_BIND.
    exec node -e '
      const env = process.env;
      const url = env.WORKER_METRICS_BIND
        ? `http://${env.WORKER_METRICS_BIND.replace(/^0\.0\.0\.0:/, "127.0.0.1:")}/health`
        : `http://127.0.0.1:${env.NOETL_PORT || 8082}/health`;
      fetch(url, { signal: AbortSignal.timeout(2500) })
        .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));' ;;
  *)
    exec node "$APP/bin/noetl.js" "$@" ;;
esac
