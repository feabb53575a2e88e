# The real node's changes to this machine, and how they are undone. Sourced by up and down
# (after env.sh). Everything here is machine-wide: one real node per machine.

# node_mac: the bridge's MAC, from the node IP (10.244.0.1 -> 0a:58:0a:f4:00:01).
node_mac() {
  local IFS=.
  # shellcheck disable=SC2086 # split on the dots
  printf '0a:58:%02x:%02x:%02x:%02x' $NODE_IP
}

# host_setup: the bridge with the node IP, the FORWARD rule, the saved sysctls.
host_setup() {
  mkdir -p "$NODE_DIR"
  # The kubelet rewrites these at start; keep the values it found (only the first time,
  # so that a second start after a crash does not save the kubelet's own values).
  [[ -f $NODE_DIR/sysctl.orig ]] || for k in "${KUBELET_SYSCTLS[@]}"; do
    echo "$k=$(sysctl -n "$k")"
  done >"$NODE_DIR/sysctl.orig"
  # The bridge exists before anything starts: kubelet, kube-proxy, CoreDNS and the API server
  # listen on the node IP, and the CNI bridge plugin takes the bridge as it finds it.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  # A bridge whose MAC was never set takes the lowest of its ports' MACs, so it changes as
  # pods come and go; pods keep the old one in their ARP cache for the node IP (their DNS
  # server) and their queries vanish for seconds ("connection timed out; no servers could
  # be reached"). A set MAC stays: 0a:58 and the node IP, as the CNI plugins derive theirs.
  ip link set "$BRIDGE" address "$(node_mac)"
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Docker sets the FORWARD policy to DROP: let through what stays on our bridge (pod to
  # pod, and pod to Service to pod through the host). Nothing else is forwarded: pods have
  # no route off the machine.
  iptables -w -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment c2k-real-node -j ACCEPT 2>/dev/null ||
    iptables -w -I FORWARD 1 -i "$BRIDGE" -o "$BRIDGE" -m comment --comment c2k-real-node -j ACCEPT
}

# host_restore: undo host_setup and what kubelet and kube-proxy did to the host.
host_restore() {
  local ipt ch t kv h
  if [[ -f $NODE_DIR/kube-proxy.yaml && -x $BIN/kube-proxy ]]; then
    "$BIN/kube-proxy" --cleanup --config="$NODE_DIR/kube-proxy.yaml" >>"$CLUSTER_DIR/logs/kube-proxy-cleanup.log" 2>&1 || true
  fi
  # The kubelet's own chains (kubelet_network_linux.go), which kube-proxy --cleanup leaves.
  for ipt in iptables ip6tables; do
    for ch in INPUT OUTPUT; do while $ipt -w -D "$ch" -j KUBE-FIREWALL 2>/dev/null; do :; done; done
    $ipt -w -F KUBE-FIREWALL 2>/dev/null
    $ipt -w -X KUBE-FIREWALL 2>/dev/null
    for t in filter nat mangle; do $ipt -w -t "$t" -X KUBE-KUBELET-CANARY 2>/dev/null; done
    $ipt -w -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null
  done
  while iptables -w -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment c2k-real-node -j ACCEPT 2>/dev/null; do :; done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link del "$BRIDGE"
    echo "down: removed bridge $BRIDGE" >&2
  fi
  if [[ -f $NODE_DIR/sysctl.orig ]]; then
    while IFS= read -r kv; do sysctl -qw "$kv"; done <"$NODE_DIR/sysctl.orig"
    echo "down: restored sysctls $(tr '\n' ' ' <"$NODE_DIR/sysctl.orig")" >&2
  fi
  # The kubelet's QoS cgroups (cgroupfs driver), deepest first, in every hierarchy.
  for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d $h ]] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  [[ $(cat "$REAL_NODE_OWNER" 2>/dev/null) == "$CLUSTER_DIR" ]] && rm -f "$REAL_NODE_OWNER"
  return 0
}
