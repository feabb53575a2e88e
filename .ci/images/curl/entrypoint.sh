#!/bin/sh
# As the image's: arguments that are options or no command at all go to curl.
set -e
case $1 in
  -*) set -- curl "$@" ;;
  *) command -v "$1" >/dev/null 2>&1 || set -- curl "$@" ;;
esac
exec "$@"
