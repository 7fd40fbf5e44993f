#!/usr/bin/env bash
# Checks the deployment artefacts in deploy/ with the tools that read them (ctest label deploy):
#   - Prometheus: `promtool check rules` and `promtool test rules` (every alert fires on its
#     input series and only then);
#   - systemd: `systemd-analyze verify` of the units, any warning counts as a failure;
#   - Kubernetes: `kubectl kustomize` (or `kustomize build`) of deploy/k8s/base, then
#     tests/deploy/check_manifests.py (the invariants the manifests must keep);
#   - the container file: every path it copies exists, its run stage has a non-root USER and a
#     HEALTHCHECK, and it installs the package of every shared library the binary needs (ldd). (Building the image needs a registry for debian:12-slim; see the README.)
# The metric names in the rules and the dashboard are checked against the running service by
# tests/integration/deploy_artefacts_test.cpp.
#
#   bash tests/deploy/deploy_test.sh [path/to/visitpay]
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
BIN=${1:-$ROOT/build/src/visitpay}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0
fail() {
  echo "FAIL: $*" >&2
  failed=1
}

echo "== promtool"
promtool check rules "$ROOT/deploy/monitoring/alerts.yaml" || fail "promtool check rules"
(cd "$ROOT/deploy/monitoring" && promtool test rules alerts_test.yaml) || fail "promtool test rules"
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
  "$ROOT/deploy/monitoring/grafana-dashboard.json" || fail "the dashboard is not JSON"

echo "== systemd-analyze verify"
[[ -x "$BIN" ]] || fail "$BIN is missing (build first)"
for unit in "$ROOT"/deploy/systemd/*.service "$ROOT"/deploy/systemd/*.timer; do
  sed "s#/usr/bin/visitpay#$BIN#g" "$unit" >"$TMP/$(basename "$unit")"
done
# verify exits 0 on unknown keys and bad values: its output is the verdict.
out=$(cd "$TMP" && systemd-analyze verify ./*.service ./*.timer 2>&1) || fail "systemd-analyze verify: $out"
[[ -z "$out" ]] || fail "systemd-analyze verify: $out"

echo "== kustomize"
if command -v kustomize >/dev/null; then
  kustomize build "$ROOT/deploy/k8s/base" >"$TMP/k8s.yaml" || fail "kustomize build"
else
  kubectl kustomize "$ROOT/deploy/k8s/base" >"$TMP/k8s.yaml" || fail "kubectl kustomize"
fi
/usr/bin/python3 "$ROOT/tests/deploy/check_manifests.py" "$TMP/k8s.yaml" || fail "manifest invariants"

echo "== Containerfile"
containerfile=$ROOT/deploy/container/Containerfile
while read -r src; do
  [[ -e "$ROOT/$src" ]] || fail "Containerfile copies $src, which does not exist"
done < <(awk '$1 == "COPY" && $2 !~ /^--from/ { for (i = 2; i < NF; i++) print $i }' "$containerfile")
run_stage=$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END {printf "%s", stage}' "$containerfile")
grep -q '^FROM debian:12-slim$' <<<"$run_stage" || fail "the run stage is not debian:12-slim"
grep -Eq '^USER [1-9][0-9]*' <<<"$run_stage" || fail "the run stage has no non-root numeric USER"
grep -q '^HEALTHCHECK ' <<<"$run_stage" || fail "the run stage has no HEALTHCHECK"
# Every shared library the binary links directly (its NEEDED entries; their own dependencies come
# with their packages) is installed by the run stage, or comes with debian:12-slim (libc6,
# libstdc++6, libgcc-s1). A sanitizer build's runtimes are not checked: the image builds without.
if [[ -x "$BIN" ]]; then
  while read -r soname; do
    case $soname in libasan.so.* | libubsan.so.*) continue ;; esac
    pkg=""
    for dir in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib /lib; do
      pkg=$(dpkg -S "$dir/$soname" 2>/dev/null | head -n 1 | cut -d: -f1) && [[ -n "$pkg" ]] && break
    done
    if [[ -z "$pkg" ]]; then
      fail "no Debian package owns $soname (a NEEDED entry of $BIN)"
      continue
    fi
    case $pkg in libc6 | libstdc++6 | libgcc-s1) continue ;; esac
    grep -Eq "(^|[[:space:]])$pkg([[:space:]]|$)" <<<"$run_stage" ||
      fail "the run stage does not install $pkg (for $soname)"
  done < <(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
fi

if ((failed)); then
  echo "deploy artefacts: FAILED" >&2
  exit 1
fi
echo "deploy artefacts: ok"
