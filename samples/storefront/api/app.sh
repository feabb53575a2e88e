#!/bin/sh
# A tiny stand-in service: `serve` answers HTTP with busybox httpd, `work` and `migrate` log.
set -eu
case "${1:-serve}" in
  serve)
    mkdir -p /tmp/www && echo "storefront api ${APP_VERSION:-dev}" > /tmp/www/index.html
    exec httpd -f -p "${PORT:-8080}" -h /tmp/www ;;
  work)
    while true; do echo "worker: processing queue ${QUEUE:-orders}"; sleep 5; done ;;
  migrate)
    echo "migrate: schema up to date" ;;
  report)
    echo "report: nightly sales report written" ;;
  *)
    echo "usage: app.sh serve|work|migrate|report" >&2; exit 2 ;;
esac
