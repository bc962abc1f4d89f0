"""Static checks of deploy/: the checks a schema validator and a reviewer would make.

No Docker engine or cluster is needed: every YAML file is parsed (multi-document) and
its required fields and cross-references are checked; the Dockerfile is read instruction
by instruction.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
KUBE = DEPLOY / "kubernetes"
SECRET_NAME = "ghapp-secrets"
APP_PORT = 3000

# The variables that must only ever come from the Secret (PRODUCT.md §2 and §8).
SECRET_VARS = {
    "APP_ID",
    "PRIVATE_KEY",
    "WEBHOOK_SECRET",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "SESSION_SECRET",
    "DATABASE_URL",
    "REDIS_URL",
}
# Anything named like a credential is treated as one even if not listed above.
SECRETISH = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY|_KEY$|DATABASE_URL|REDIS_URL")

API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "Job": "batch/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")


def load_docs(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        assert isinstance(d, dict), f"{path.name}: a document is not a mapping"
    return docs


KUBE_FILES = sorted(KUBE.glob("*.yaml"))
KUBE_DOCS: list[tuple[str, dict[str, Any]]] = [
    (p.name, d) for p in KUBE_FILES for d in load_docs(p)
]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in KUBE_DOCS if d["kind"] == kind}


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    """(workload name, pod spec) for every Deployment and Job."""
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for _, d in KUBE_DOCS
        if d["kind"] in {"Deployment", "Job"}
    ]


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}/{c['name']}", c)
        for name, spec in pod_specs()
        for c in spec.get("initContainers", []) + spec["containers"]
    ]


def env_sources(container: dict[str, Any]) -> dict[str, str]:
    """Variable name → where it comes from: "secret", "literal" or "other"."""
    sources: dict[str, str] = {}
    for e in container.get("env", []):
        if "value" in e:
            sources[e["name"]] = "literal"
        elif "secretKeyRef" in e.get("valueFrom", {}):
            sources[e["name"]] = "secret"
        else:
            sources[e["name"]] = "other"
    return sources


def resolve_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError(f"named port {port!r} is not declared by the container")


# --- Kubernetes: every document ---------------------------------------------------------


def test_kubernetes_files_exist() -> None:
    names = {p.name for p in KUBE_FILES}
    for required in (
        "web-deployment.yaml",
        "worker-deployment.yaml",
        "service.yaml",
        "migrate-job.yaml",
        "secret.example.yaml",
        "kustomization.yaml",
    ):
        assert required in names


@pytest.mark.parametrize(("file", "doc"), KUBE_DOCS, ids=[f for f, _ in KUBE_DOCS])
def test_document_has_required_fields(file: str, doc: dict[str, Any]) -> None:
    kind = doc.get("kind")
    assert kind in API_VERSIONS, f"{file}: unexpected kind {kind!r}"
    assert doc.get("apiVersion") == API_VERSIONS[kind], f"{file}: apiVersion"
    if kind == "Kustomization":
        return
    name = doc.get("metadata", {}).get("name")
    assert isinstance(name, str) and DNS_LABEL.match(name), f"{file}: metadata.name {name!r}"
    assert "namespace" not in doc["metadata"], f"{file}: the kustomization sets the namespace"


def test_deployment_selectors_match_template_labels() -> None:
    deployments = of_kind("Deployment")
    assert set(deployments) == {"ghapp-web", "ghapp-worker"}
    for name, d in deployments.items():
        selector = d["spec"]["selector"]["matchLabels"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert selector, name
        assert selector.items() <= labels.items(), f"{name}: selector does not match labels"
    web_sel = deployments["ghapp-web"]["spec"]["selector"]["matchLabels"]
    worker_labels = deployments["ghapp-worker"]["spec"]["template"]["metadata"]["labels"]
    assert not web_sel.items() <= worker_labels.items(), "web selector also picks workers"


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_container_has_image_and_resources(name: str, container: dict[str, Any]) -> None:
    assert container.get("image"), f"{name}: no image"
    resources = container.get("resources", {})
    for section in ("requests", "limits"):
        for key in ("cpu", "memory"):
            value = resources.get(section, {}).get(key)
            assert value is not None, f"{name}: resources.{section}.{key} missing"
            assert QUANTITY.match(str(value)), f"{name}: {section}.{key}={value!r}"
    assert container.get("securityContext", {}).get("allowPrivilegeEscalation") is False


@pytest.mark.parametrize(("name", "spec"), pod_specs(), ids=[n for n, _ in pod_specs()])
def test_pods_run_as_non_root(name: str, spec: dict[str, Any]) -> None:
    ctx = spec.get("securityContext", {})
    assert ctx.get("runAsNonRoot") is True, name
    assert ctx.get("runAsUser", 0) != 0, name


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_no_literal_secret_values(name: str, container: dict[str, Any]) -> None:
    for var, source in env_sources(container).items():
        if var in SECRET_VARS or SECRETISH.search(var):
            assert source == "secret", f"{name}: {var} must come from a secretKeyRef"
    for e in container.get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None:
            assert ref["name"] == SECRET_NAME, f"{name}: {e['name']} from {ref['name']}"
            assert ref["key"] in SECRET_VARS, f"{name}: unknown secret key {ref['key']}"
    for src in container.get("envFrom", []):
        if "secretRef" in src:
            assert src["secretRef"]["name"] == SECRET_NAME
        if "configMapRef" in src:
            assert src["configMapRef"]["name"] in of_kind("ConfigMap"), name


def test_config_maps_hold_no_secrets() -> None:
    for name, cm in of_kind("ConfigMap").items():
        for key in cm.get("data", {}):
            assert key not in SECRET_VARS and not SECRETISH.search(key), f"{name}: {key}"


@pytest.mark.parametrize("deployment", ["ghapp-web", "ghapp-worker"])
def test_app_containers_get_every_secret(deployment: str) -> None:
    (container,) = of_kind("Deployment")[deployment]["spec"]["template"]["spec"]["containers"]
    from_secret = {v for v, s in env_sources(container).items() if s == "secret"}
    whole_secret = any(
        src.get("secretRef", {}).get("name") == SECRET_NAME for src in container.get("envFrom", [])
    )
    assert whole_secret or from_secret == SECRET_VARS


# --- Kubernetes: the web Deployment and its Service ------------------------------------


def web_container() -> dict[str, Any]:
    (container,) = of_kind("Deployment")["ghapp-web"]["spec"]["template"]["spec"]["containers"]
    return container


def test_web_runs_the_server_on_the_app_port() -> None:
    c = web_container()
    assert c["command"] == ["ghapp", "run"]
    assert [p["containerPort"] for p in c["ports"]] == [APP_PORT]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    assert env.get("HOST") == "0.0.0.0", "the server must listen beyond the pod's loopback"


@pytest.mark.parametrize(
    ("probe", "path"), [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]
)
def test_web_probes(probe: str, path: str) -> None:
    c = web_container()
    get = c[probe]["httpGet"]
    assert get["path"] == path
    assert resolve_port(c, get["port"]) == APP_PORT


def test_service_targets_the_web_pods() -> None:
    (service,) = of_kind("Service").values()
    web = of_kind("Deployment")["ghapp-web"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert resolve_port(web_container(), port["targetPort"]) == APP_PORT


# --- Kubernetes: worker, migrations, secret example, kustomization ---------------------


def test_worker_deployment() -> None:
    worker = of_kind("Deployment")["ghapp-worker"]
    assert worker["spec"]["replicas"] == 2
    (c,) = worker["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["ghapp", "worker"]


def test_migrate_job() -> None:
    (job,) = of_kind("Job").values()
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in {"Never", "OnFailure"}
    (c,) = spec["containers"]
    assert c["command"] == ["ghapp", "db", "upgrade"]
    assert env_sources(c).get("DATABASE_URL") == "secret"


def test_secret_example_has_only_placeholders() -> None:
    (secret,) = load_docs(KUBE / "secret.example.yaml")
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == SECRET_NAME
    data = secret["stringData"]
    assert set(data) == SECRET_VARS
    for key, value in data.items():
        assert "REPLACE_ME" in value, f"{key} looks like a real value"


def test_kustomization_lists_the_manifests_but_not_the_example_secret() -> None:
    (kustomization,) = load_docs(KUBE / "kustomization.yaml")
    listed = kustomization["resources"]
    for entry in listed:
        assert (KUBE / entry).is_file(), f"{entry} does not exist"
    expected = {p.name for p in KUBE_FILES} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(listed) == expected
    assert kustomization["namespace"] == "ghapp"
    images = {i["name"] for i in kustomization.get("images", [])}
    used = {c["image"] for _, c in containers()}
    assert used <= images, "every image should be settable from the kustomization"


# --- compose.yaml ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    (doc,) = load_docs(DEPLOY / "compose.yaml")
    return doc


def test_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres", "migrate"} <= set(services)
    for name in ("web", "worker", "migrate"):
        s = services[name]
        assert s.get("image") or s.get("build"), name
        assert s["env_file"] == "../.env", name
        assert s["environment"]["DATABASE_URL"] == "postgresql://ghapp:ghapp@postgres:5432/ghapp"
        assert s["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert s["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / s["build"]["context"] / s["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize(
    ("service", "command"),
    [
        ("web", ["ghapp", "run"]),
        ("worker", ["ghapp", "worker"]),
        ("migrate", ["ghapp", "db", "upgrade"]),
    ],
)
def test_compose_commands(compose: dict[str, Any], service: str, command: list[str]) -> None:
    assert compose["services"][service]["command"] == command


def test_compose_ordering_and_scale(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # Quoted in the file: a bare `no` would be YAML 1.1's boolean false.
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("web", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["postgres"]["condition"] == "service_healthy", name
    assert "3000:3000" in services["web"]["ports"]
    # Only web serves /healthz; the image's HEALTHCHECK would mark the others unhealthy.
    for name in ("worker", "migrate"):
        assert services[name]["healthcheck"] == {"disable": True}, name


def test_compose_backing_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["redis"]["image"] == "redis:7-alpine"
    assert services["postgres"]["image"] == "postgres:16-alpine"
    for name in ("redis", "postgres"):
        assert services[name]["healthcheck"]["test"], name
    volumes = [v.split(":")[0] for v in services["postgres"]["volumes"]]
    assert volumes and all(v in compose["volumes"] for v in volumes)
    env = services["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == (
        "ghapp",
        "ghapp",
        "ghapp",
    )


# --- Dockerfile ------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and `\\` continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


@pytest.fixture(scope="module")
def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def test_dockerfile_parser_joins_continuations() -> None:
    got = dockerfile_instructions("# c\nFROM x\nRUN a \\\n  # note\n  && b\nUSER 1\n")
    assert got == [("FROM", "x"), ("RUN", "a  && b"), ("USER", "1")]


def test_dockerfile_base_and_install() -> None:
    instructions = dockerfile_instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    froms = [a.split()[0] for k, a in instructions if k == "FROM"]
    assert froms and all(f == "python:3.11-slim" for f in froms)
    runs = " ".join(a for k, a in instructions if k == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs), "the package is installed from the context"


def test_dockerfile_ends_as_non_root(final_stage: list[tuple[str, str]]) -> None:
    users = [a for k, a in final_stage if k == "USER"]
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # Nothing after the last USER switches back to root.
    last_user = max(i for i, (k, _) in enumerate(final_stage) if k == "USER")
    assert all(k != "USER" for k, _ in final_stage[last_user + 1 :])


def test_dockerfile_runtime_settings(final_stage: list[tuple[str, str]]) -> None:
    keywords = dict(final_stage)  # last wins, as in Docker
    assert "3000" in keywords["EXPOSE"].split()
    env = " ".join(a for k, a in final_stage if k == "ENV")
    assert re.search(r"\bHOST=0\.0\.0\.0\b", env)
    assert json.loads(keywords["CMD"]) == ["ghapp", "run"]


def test_dockerfile_healthcheck(final_stage: list[tuple[str, str]]) -> None:
    (check,) = [a for k, a in final_stage if k == "HEALTHCHECK"]
    options, _, command = check.partition("CMD")
    assert all(o.startswith("--") for o in shlex.split(options))
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"], "slim has no curl; probe with python"
    assert "http://127.0.0.1:3000/healthz" in argv[2]
    compile(argv[2], "<healthcheck>", "exec")  # the probe is valid Python


def test_readme_covers_each_way_to_run() -> None:
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for needle in (
        "docker compose -f deploy/compose.yaml up",
        "kubectl apply -k deploy/kubernetes",
        "create secret generic ghapp-secrets",
        "ghapp db upgrade",
        "--scale worker=",
        "scale deployment/ghapp-worker",
    ):
        assert needle in text, needle
