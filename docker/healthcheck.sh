#!/bin/bash
# Container health check: exits 0 when GET /health on this container answers 200, 1 otherwise
# (refused, 503 while loading or shutting down, no status line within $TANDEM_HEALTH_TIMEOUT s, default 4).
# Plain bash over /dev/tcp because the JRE image has no curl or wget (see docker/Dockerfile).
# Usage: healthcheck.sh [PORT]   (default: $TANDEM_PORT, else 8080)
port="${1:-${TANDEM_PORT:-8080}}"
{ exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null || exit 1
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t "${TANDEM_HEALTH_TIMEOUT:-4}" status <&3 || exit 1
exec 3<&-
case "${status}" in
  "HTTP/1.1 200 "* | "HTTP/1.0 200 "*) exit 0 ;;
  *) exit 1 ;;
esac
