#!/usr/bin/python3
"""The invariants visitpay's Kubernetes manifests must keep, checked on `kustomize build` output.

No Kubernetes API server (and so no OpenAPI schema) is reachable in CI, so this is not a schema
validation: it checks the structure each object needs to be accepted (apiVersion, kind, name,
required fields of the kinds used) and the properties the README promises (three replicas,
probes on /readyz and /healthz, non-root and read-only, resources, a PDB and NetworkPolicy that
select the pods, secrets mounted as files, a migration Job, a CloudNativePG cluster with a
synchronous standby).

    python3 tests/deploy/check_manifests.py BUILT.yaml
"""
import sys

import yaml

KNOWN = {
    ("v1", "Namespace"), ("v1", "ServiceAccount"), ("v1", "Service"), ("v1", "ConfigMap"),
    ("v1", "PersistentVolumeClaim"), ("apps/v1", "Deployment"), ("batch/v1", "Job"),
    ("policy/v1", "PodDisruptionBudget"), ("networking.k8s.io/v1", "NetworkPolicy"),
    ("postgresql.cnpg.io/v1", "Cluster"),
}
problems = []


def check(condition, what):
    if not condition:
        problems.append(what)


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def pod_spec_checks(name, pod, secrets_needed):
    sc = pod.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
    check(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: seccomp")
    check(pod.get("automountServiceAccountToken") is False, f"{name}: service account token")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod.get("containers", []):
        csc = c.get("securityContext", {})
        check(csc.get("readOnlyRootFilesystem") is True, f"{name}/{c['name']}: read-only root")
        check(csc.get("allowPrivilegeEscalation") is False, f"{name}/{c['name']}: no escalation")
        check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}/{c['name']}: caps")
        res = c.get("resources", {})
        check("cpu" in res.get("requests", {}) and "memory" in res.get("requests", {}),
              f"{name}/{c['name']}: resource requests")
        check("memory" in res.get("limits", {}), f"{name}/{c['name']}: memory limit")
        check(c.get("image", "").startswith("registry.example.com/visitpay:"),
              f"{name}/{c['name']}: image set by kustomize")
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes, f"{name}/{c['name']}: mount {m['name']} has no volume")
    mounted = {v["secret"]["secretName"] for v in volumes.values() if "secret" in v}
    for secret in secrets_needed:
        check(secret in mounted, f"{name}: secret {secret} is not mounted as files")
    check(not any("secretKeyRef" in str(c.get("env", "")) for c in pod.get("containers", [])),
          f"{name}: secrets belong in files, not in the environment")


def main(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        check(key in KNOWN, f"unexpected object {key}")
        check(bool(d.get("metadata", {}).get("name")), f"{key}: metadata.name")
        by_kind.setdefault(d.get("kind"), []).append(d)

    secrets = ["visitpay-keys", "visitpay-providers", "visitpay-db-app"]
    configmaps = {c["metadata"]["name"] for c in by_kind.get("ConfigMap", [])}

    deployments = by_kind.get("Deployment", [])
    check(len(deployments) == 1, "one Deployment")
    for d in deployments:
        spec = d["spec"]
        labels = spec["template"]["metadata"]["labels"]
        check(spec.get("replicas") == 3, "Deployment: 3 replicas")
        check(selects(spec["selector"]["matchLabels"], labels), "Deployment: selector")
        pod = spec["template"]["spec"]
        pod_spec_checks("Deployment", pod, secrets)
        c = pod["containers"][0]
        check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz",
              "Deployment: readiness on /readyz")
        check(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz",
              "Deployment: liveness on /healthz")
        for v in pod["volumes"]:
            if "configMap" in v:
                check(v["configMap"]["name"] in configmaps, f"Deployment: {v['configMap']['name']}")
        for kind in ("PodDisruptionBudget", "Service"):
            for o in by_kind.get(kind, []):
                sel = o["spec"]["selector"]
                sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
                check(selects(sel, labels), f"{kind} selects the pods")
        for p in by_kind.get("PodDisruptionBudget", []):
            check(p["spec"].get("minAvailable", 0) >= 2, "PDB keeps two of three")
        for n in by_kind.get("NetworkPolicy", []):
            check(selects(n["spec"]["podSelector"].get("matchLabels"), labels), "NetworkPolicy")
            check(set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"},
                  "NetworkPolicy: ingress and egress")

    jobs = by_kind.get("Job", [])
    check(any(j["spec"]["template"]["spec"]["containers"][0].get("args") == ["migrate"]
              for j in jobs), "a Job runs `visitpay migrate`")
    for j in jobs:
        pod_spec_checks("Job", j["spec"]["template"]["spec"], secrets)

    clusters = by_kind.get("Cluster", [])
    check(len(clusters) == 1, "one CloudNativePG Cluster")
    for c in clusters:
        check(c["spec"].get("instances", 0) >= 3, "Cluster: three instances")
        sync = c["spec"].get("postgresql", {}).get("synchronous", {})
        check(sync.get("number", 0) >= 1 and sync.get("dataDurability") == "required",
              "Cluster: a synchronous standby, required")
        check(c["spec"].get("bootstrap", {}).get("initdb", {}).get("database") == "visitpay",
              "Cluster: database visitpay")

    for p in problems:
        print("manifest: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
