# Stop the real node and undo its host changes. Sourced by down (after env.sh and host.sh);
# uses down's stop_component.

node_stop() {
  local sock=$NODE_DIR/containerd/containerd.sock kc_args=(--kubeconfig "$CLUSTER_DIR/kubeconfig" --request-timeout=10s)
  [[ -f $CLUSTER_DIR/kubeconfig ]] || kc_args=(--kubeconfig "$CLUSTER_DIR/kubeconfig.tmp" --request-timeout=10s)
  # 1. Let the kubelet take the pods down, so that CNI releases their addresses and veths.
  if pid_alive kube-apiserver && pid_alive kubelet; then
    # Their controllers first, or they make new pods while the old ones go.
    "$BIN/kubectl" "${kc_args[@]}" delete deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs \
      --all -A --wait=false >/dev/null 2>&1
    "$BIN/kubectl" "${kc_args[@]}" delete pods --all -A --field-selector "spec.nodeName=$REAL_NODE_NAME" \
      --grace-period=1 --wait=true --timeout=20s >/dev/null 2>&1 ||
      echo "down: some pods did not go in 20 s; their containers are killed below" >&2
  fi
  # 2. The node's processes (the control plane still runs: nothing recreates pods here).
  local c
  for c in coredns kube-proxy kubelet; do stop_component "$c"; done
  # 3. What containerd still runs: kill the tasks, then the shims (they outlive containerd
  #    and carry our socket path on their command line).
  if pid_alive containerd; then
    local id ctrk=(ctr --address "$sock" -n k8s.io)
    for id in $("${ctrk[@]}" tasks ls -q 2>/dev/null); do "${ctrk[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
    sleep 0.5
    for id in $("${ctrk[@]}" tasks ls -q 2>/dev/null); do "${ctrk[@]}" tasks rm -f "$id" >/dev/null 2>&1; done
  fi
  stop_component containerd
  local p
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "-address $sock"; then
      kill -KILL "${p#/proc/}" 2>/dev/null && echo "down: killed leftover shim ${p#/proc/}" >&2
    fi
  done
  # 4. Mounts under the node's state (container rootfs, shm, netns, volumes), deepest first.
  local m
  awk -v d="$NODE_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  host_restore
  rm -f "$CLUSTER_DIR/real-node"
}
