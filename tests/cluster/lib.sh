# Helpers to start and stop the cluster's components, shared by up, down and node/restart.
# Sourced after env.sh; wait_for needs the caller's die and TIMEOUT, launch its BIN.

launch() { # launch NAME ARGS...: start a component detached, logging to logs/NAME.log (appended:
  # a component restarted by node/restart keeps its earlier lines)
  local name=$1 exe=$BIN/$1
  shift
  [[ -x $exe ]] || exe=$(command -v "$name") # containerd is Debian's
  # setsid + closed fds: the component must not hold the caller's pipes or locks.
  setsid "$exe" "$@" </dev/null >>"$CLUSTER_DIR/logs/$name.log" 2>&1 8>&- 9>&- &
  local pid=$! arg0 i
  echo "$pid" >"$CLUSTER_DIR/pids/$name.pid"
  # $! is first a copy of this shell, then setsid, then the component once both have exec'd;
  # until then pid_alive would take the component for dead. Wait (5 s at most) for the exec.
  for ((i = 0; i < 100; i++)); do
    arg0=$(head -zn1 /proc/"$pid"/cmdline 2>/dev/null | tr -d '\0') || break
    [[ -z $arg0 || ${arg0##*/} == "$name" ]] && break
    sleep 0.05
  done
}

still_starting() { # still_starting NAME: the process launch started has not exited
  # Not pid_alive: its name check can fail for a live process that is still exec'ing (seen
  # once on a freshly booted machine: "exited during startup" with an empty log). No other
  # process can hold this pid while ours is unreaped, so no name check is needed here.
  local pid state
  pid=$(<"$CLUSTER_DIR/pids/$1.pid")
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z ]]
}

wait_for() { # wait_for NAME CMD...: poll CMD until it succeeds, fail on timeout or exit
  local name=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    [[ $name == - ]] || still_starting "$name" || die "$name exited during startup (see $CLUSTER_DIR/logs/$name.log)"
    ((SECONDS < deadline)) || die "timed out after ${TIMEOUT}s waiting for $name: $*"
    sleep 0.2
  done
}


curl_ok() { [[ $(curl -sS --max-time 3 "$@") == ok ]]; }

# Only processes whose pid file we wrote and whose command line is still our binary are
# signalled: TERM, then KILL after 5 s.
stop_component() {
  local c=$1 pid
  pid_alive "$c" || return 0
  pid=$(<"$CLUSTER_DIR/pids/$c.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    pid_alive "$c" || break
    sleep 0.1
  done
  if pid_alive "$c"; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  echo "${0##*/}: stopped $c (pid $pid)" >&2
}
