# Start the real node: containerd, kubelet, kube-proxy, CoreDNS. Sourced by up once the
# control plane runs and host_setup (host.sh) has made the bridge; uses up's helpers
# (launch, wait_for, kc, log, die) and env.sh's settings.

render() { # render TEMPLATE DEST: node/TEMPLATE with its @NAME@ placeholders filled in
  local args=() v
  for v in NODE_DIR CLUSTER_DIR PKI BRIDGE NODE_IP POD_CIDR SERVICE_CIDR KUBELET_PORT \
    KUBELET_HEALTHZ_PORT PROXY_HEALTHZ_PORT PROXY_METRICS_PORT DNS_HEALTH_PORT DNS_READY_PORT \
    REAL_NODE_NAME PAUSE_IMAGE; do
    args+=(-e "s#@$v@#${!v}#g")
  done
  sed "${args[@]}" "$HERE/node/$1" >"$2"
  ! grep -q '@[A-Z_]*@' "$2" || die "unfilled placeholder in $2"
}

registry_host() { # registry_host NAME SERVER: containerd pulls NAME's images from our registry
  mkdir -p "$NODE_DIR/containerd/certs.d/$1"
  cat >"$NODE_DIR/containerd/certs.d/$1/hosts.toml" <<EOT
server = "$2"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOT
}

# The runtime and the kubelet, from their rendered configs (node/restart starts them again).
containerd_start() {
  launch containerd --config "$NODE_DIR/containerd.toml"
  wait_for containerd ctr --address "$NODE_DIR/containerd/containerd.sock" version
}

# containerd answers its own API before its CRI server is initialized (it first restores every
# container: seconds on a busy machine after node/restart), and the kubelet exits at once on
# "server is not initialized yet": it is started again, a second later, until the CRI answers.
kubelet_start() {
  local tries=0 deadline=$((SECONDS + TIMEOUT))
  while :; do
    launch kubelet \
      --config="$NODE_DIR/kubelet.yaml" \
      --kubeconfig="$CLUSTER_DIR/kubelet.kubeconfig" \
      --root-dir="$NODE_DIR/kubelet" --cert-dir="$PKI" \
      --hostname-override="$REAL_NODE_NAME" --node-ip="$NODE_IP" \
      --node-labels="c2k.io/node=real"
    until curl_ok "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" >/dev/null 2>&1; do
      if ! still_starting kubelet; then
        tail -n 3 "$CLUSTER_DIR/logs/kubelet.log" | grep -q "server is not initialized yet" &&
          ((++tries < 60 && SECONDS < deadline)) ||
          die "kubelet exited during startup (see $CLUSTER_DIR/logs/kubelet.log)"
        sleep 1
        continue 2
      fi
      ((SECONDS < deadline)) || die "timed out after ${TIMEOUT}s waiting for the kubelet"
      sleep 0.2
    done
    return 0
  done
}

node_start() {
  command -v containerd >/dev/null && [[ -x /usr/sbin/runc && -x /usr/lib/cni/bridge ]] ||
    die "the real node needs Debian's containerd, runc and containernetworking-plugins (.ci/setup installs them)"
  "$HERE/images" >&2 || die "the sandbox image could not be pushed to $REGISTRY (is .ci/docker-up running?)"
  mkdir -p "$NODE_DIR"/{pod-logs,kubelet,cni/net.d,cni/ipam}
  echo "nameserver $NODE_IP" >"$NODE_DIR/resolv.conf"

  # CoreDNS's rights: the upstream system:coredns role.
  kc apply -f - >/dev/null <<EOT || die "RBAC for CoreDNS failed"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "c2k:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "c2k:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "c2k:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "c2k:coredns"}
EOT

  render containerd.toml "$NODE_DIR/containerd.toml"
  render cni.conflist "$NODE_DIR/cni/net.d/10-c2k.conflist"
  # The local registry by its two names, and Docker Hub's images (postgres:15) through it,
  # as the Docker engine of .ci/docker-up pulls them: nothing comes from outside.
  registry_host "$REGISTRY" "http://$REGISTRY"
  registry_host "localhost:${REGISTRY##*:}" "http://$REGISTRY"
  registry_host docker.io "http://$REGISTRY"
  containerd_start
  log "containerd ready ($(containerd --version | awk '{print $3}'))"

  render kubelet.yaml "$NODE_DIR/kubelet.yaml"
  kubelet_start
  render kube-proxy.yaml "$NODE_DIR/kube-proxy.yaml"
  launch kube-proxy --config="$NODE_DIR/kube-proxy.yaml"
  render Corefile "$NODE_DIR/Corefile"
  launch coredns -conf "$NODE_DIR/Corefile"

  wait_for kubelet kc get "node/$REAL_NODE_NAME"
  wait_for kubelet kc wait --for=condition=Ready --timeout=5s "node/$REAL_NODE_NAME"
  wait_for kube-proxy curl -sf "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz"
  wait_for coredns curl -sf "http://127.0.0.1:$DNS_READY_PORT/ready"
  # Pods mount the kube-api-access volume, which needs the namespace's kube-root-ca.crt.
  wait_for - kc get configmap kube-root-ca.crt -n default
  log "real node $REAL_NODE_NAME ready (pods $POD_CIDR on $BRIDGE, DNS $NODE_IP)"
}
