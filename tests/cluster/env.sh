# Shared settings for tests/cluster/{up,down}. Sourced, not executed.
# Every value can be overridden from the environment.
CLUSTER_DIR=${C2K_CLUSTER_DIR:-/tmp/c2k-cluster}
ETCD_PORT=${C2K_ETCD_PORT:-23790}
ETCD_PEER_PORT=${C2K_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${C2K_APISERVER_PORT:-16443}
KCM_PORT=${C2K_KCM_PORT:-16457}
SCHEDULER_PORT=${C2K_SCHEDULER_PORT:-16459}
KWOK_PORT=${C2K_KWOK_PORT:-16447}
NODE_NAME=${C2K_NODE_NAME:-c2k-node-0}

# Start order; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

pid_alive() { # pid_alive NAME: the recorded process runs and is ours
  local f=$CLUSTER_DIR/pids/$1.pid pid arg0
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  arg0=$(head -zn1 /proc/"$pid"/cmdline 2>/dev/null | tr -d '\0')
  [[ ${arg0##*/} == "$1" ]]
}
