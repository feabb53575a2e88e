"""Waiting for a one-shot from inside the dependant's pod (`service_completed_successfully`).

compose starts a dependant only after the one-shot's container exited 0. The one-shot is a Job
(workloads.py); each pod of the dependant gets an init container that asks the API server for
that Job and ends once the Job's Complete condition is True. When the Job has Failed it exits 1
with a message, so the pod retries under its back-off and nothing starts before the Job has
succeeded (as `docker compose up` refuses to start the dependant).

What the wait needs, and what c2k writes for it:
- an image with `sh` and `curl` whose TLS can talk to the API server (`--job-wait-image`,
  default options.JOB_WAIT_IMAGE); busybox's wget cannot (its TLS fails on ECDSA certificates);
- the API server at the `kubernetes` Service (KUBERNETES_SERVICE_HOST/PORT, set in every pod);
- RBAC: a ServiceAccount `<project>-job-waiter`, a Role allowing `get` on exactly the awaited
  Jobs (resourceNames) and a RoleBinding. The waiting pods run as that ServiceAccount with
  automountServiceAccountToken false: its token, the cluster CA (ConfigMap kube-root-ca.crt) and
  the namespace are projected into the wait containers only, so the app's containers cannot read
  the Jobs (whose templates may hold plain-text environment). A pod that names its own
  ServiceAccount (kompose.serviceaccount-name) keeps it, as it is, and is bound to the Role too.
Never set a TTL on these Jobs: a dependant restarted later asks again and must find it Complete.
"""

from __future__ import annotations

from . import names

TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_VOLUME_KEY = ("job-wait-token",)

# Backticks, not $(...): Kubernetes would read $(NAME) as a variable reference.
_SCRIPT = """\
d={dir}
h=$KUBERNETES_SERVICE_HOST; case $h in *:*) h="[$h]";; esac
u=https://$h:$KUBERNETES_SERVICE_PORT/apis/batch/v1/namespaces/`cat $d/namespace`/jobs/{job}
until t=`cat $d/token`; s=`curl -sS -m 10 --cacert $d/ca.crt -H "Authorization: Bearer $t" $u`
  case "$s" in
    *'"type":"Complete","status":"True"'*) true;;
    *'"type":"Failed","status":"True"'*)
      echo "job {job} failed: {dependant} does not start"; exit 1;;
    *'"kind":"Status"'*) echo "$s" | grep -o '"reason":"[A-Za-z]*"'; false;;
    *) false;;
  esac
do echo "waiting for job {job} to complete"; sleep 2; done
"""


def account_name(ctx) -> str:
    return names.join(names.dns_label(ctx.project.name, prefix="p"), "job-waiter", limit=63)


def wait_container(ctx, pod, job: str, dependant: str, name: str) -> dict:
    """The init container that waits until Job `job` has completed."""
    volume = pod.get(_VOLUME_KEY, "job-wait-token", {"projected": {"sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt",
                                                              "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}})
    script = _SCRIPT.format(dir=TOKEN_DIR, job=job, dependant=dependant)
    return {"name": name, "image": ctx.options.job_wait_image,
            "command": ["sh", "-c", script],
            "volumeMounts": [{"name": volume, "mountPath": TOKEN_DIR, "readOnly": True}]}


def pod_identity(ctx, group, spec: dict) -> None:
    """Run a pod that waits for Jobs as the waiter account (unless it names its own)."""
    if not ctx.job_waits.get(group.name):
        return
    if "serviceAccountName" in spec:
        ctx.job_wait_accounts.add(spec["serviceAccountName"])
        return
    spec["serviceAccountName"] = account_name(ctx)
    spec["automountServiceAccountToken"] = False
    ctx.job_wait_accounts.add(spec["serviceAccountName"])


def build_access(ctx) -> None:
    """ServiceAccount, Role and RoleBinding that let the wait containers read the Jobs."""
    jobs = sorted({job for waited in ctx.job_waits.values() for job in waited})
    if not jobs:
        return
    name = account_name(ctx)
    owner = ctx.project.name
    origin = "the waits for one-shot services"
    if name in ctx.job_wait_accounts:
        ctx.add({"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": ctx.meta(name, owner), "automountServiceAccountToken": False},
                origin)
    ctx.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": ctx.meta(name, owner),
             "rules": [{"apiGroups": ["batch"], "resources": ["jobs"],
                        "resourceNames": jobs, "verbs": ["get"]}]}, origin)
    ctx.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": ctx.meta(name, owner),
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
             "subjects": [{"kind": "ServiceAccount", "name": account}
                          for account in sorted(ctx.job_wait_accounts)]}, origin)
