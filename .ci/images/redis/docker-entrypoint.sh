#!/bin/bash
# Run redis-server as the redis user with protected mode off, like the official image.
set -euo pipefail
if [[ ${1:-} == -* || ${1:-} == *.conf ]]; then set -- redis-server "$@"; fi
if [[ ${1:-} == redis-server ]]; then
  [[ " $* " == *" --protected-mode "* ]] || set -- "$@" --protected-mode no
  if [[ $(id -u) == 0 ]]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
