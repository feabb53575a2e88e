# Shared settings for tests/cluster/{up,down,images}. Sourced, not executed.
# Every value can be overridden from the environment.
CLUSTER_DIR=${C2K_CLUSTER_DIR:-/tmp/c2k-cluster}
ETCD_PORT=${C2K_ETCD_PORT:-23790}
ETCD_PEER_PORT=${C2K_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${C2K_APISERVER_PORT:-16443}
KCM_PORT=${C2K_KCM_PORT:-16457}
SCHEDULER_PORT=${C2K_SCHEDULER_PORT:-16459}
KWOK_PORT=${C2K_KWOK_PORT:-16447}
NODE_NAME=${C2K_NODE_NAME:-c2k-node-0}

# The real node: kubelet, containerd, kube-proxy and CoreDNS on this machine. It needs root and
# owns machine-wide things (a bridge, iptables chains, the kubepods cgroups, six sysctls), so
# one cluster per machine has it: C2K_REAL_NODE=1 requires it, 0 leaves it out, auto (the
# default) adds it when running as root and no other cluster has it.
REAL_NODE=${C2K_REAL_NODE:-auto}
REAL_NODE_NAME=${C2K_REAL_NODE_NAME:-c2k-real-0}
BRIDGE=c2k0
NODE_IP=10.244.0.1           # on the bridge: no listener of the node is on an outside interface
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
KWOK_POD_CIDR=10.245.0.0/16  # kwok's made-up pod IPs, apart from the real ones
KWOK_TAINT=kwok.x-k8s.io/node # on the kwok node when the real node is there
KUBELET_PORT=${C2K_KUBELET_PORT:-16250}
KUBELET_HEALTHZ_PORT=${C2K_KUBELET_HEALTHZ_PORT:-16248}
PROXY_HEALTHZ_PORT=${C2K_PROXY_HEALTHZ_PORT:-16256}
PROXY_METRICS_PORT=${C2K_PROXY_METRICS_PORT:-16249}
DNS_HEALTH_PORT=${C2K_DNS_HEALTH_PORT:-16280}
DNS_READY_PORT=${C2K_DNS_READY_PORT:-16281}
REGISTRY=${C2K_NODE_REGISTRY:-127.0.0.1:5000}
PAUSE_IMAGE=$REGISTRY/c2k/pause:1
NODE_DIR=$CLUSTER_DIR/node
REAL_NODE_OWNER=/run/c2k-real-node   # holds the CLUSTER_DIR of the cluster that has the node
# The sysctls the kubelet sets at start (setupKernelTunables); down puts them back.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

# Start order; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
NODE_COMPONENTS=(containerd kubelet kube-proxy coredns)

pid_alive() { # pid_alive NAME: the recorded process runs and is ours
  local f=$CLUSTER_DIR/pids/$1.pid pid arg0
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  arg0=$(head -zn1 /proc/"$pid"/cmdline 2>/dev/null | tr -d '\0')
  [[ ${arg0##*/} == "$1" ]]
}

has_real_node() { # the running (or half-started) cluster in CLUSTER_DIR has the real node
  [[ -f $CLUSTER_DIR/real-node ]]
}
