"""The registry as part of an export (`--with-registry`): `lmos-studio registry serve` on PostgreSQL, in the
namespace of lmos-runtime, reachable from the agents' namespaces.

Deployment (2 replicas, readiness on `/healthz`, liveness on `/healthz/live`), Service and a NetworkPolicy.
The write token and the database URL come from a Secret the cluster already has (`secretKeyRef`): the
export never holds their values, and says how to create the Secret in a note. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from lmos_studio.export.manifests import MANAGED_BY

NAME = "lmos-studio-registry"
SECRET = "lmos-studio-registry"  # keys: database-url, token
SECRET_DB_KEY = "database-url"
SECRET_TOKEN_KEY = "token"
PORT = 8090
PORT_NAME = "http"
REPLICAS = 2
DEFAULT_IMAGE = "lmos-studio:0.1.0"  # built from this repository; set --registry-image for your registry
POSTGRES_PORT = 5432
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "registry"}


def secret_note(namespace: str) -> str:
    return (
        f"the registry reads Secret {namespace}/{SECRET} (keys {SECRET_DB_KEY}, {SECRET_TOKEN_KEY}); create it "
        f"before applying: kubectl -n {namespace} create secret generic {SECRET} "
        f"--from-literal={SECRET_DB_KEY}=postgresql://USER:PASSWORD@HOST:5432/DB --from-literal={SECRET_TOKEN_KEY}=…"
    )


def registry_resources(
    namespace: str, agent_namespaces: list[str], *, image: str = DEFAULT_IMAGE
) -> list[dict[str, Any]]:
    """Deployment, Service and NetworkPolicy of the registry in `namespace`, open to `agent_namespaces`."""
    labels = {**MANAGED_BY, **LABELS}
    meta = {"name": NAME, "namespace": namespace, "labels": dict(labels)}

    def probe(path: str, period: int, failures: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": PORT_NAME},
            "periodSeconds": period,
            "timeoutSeconds": 3,
            "failureThreshold": failures,
        }

    def secret_env(var: str, key: str) -> dict[str, Any]:
        return {"name": var, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key}}}

    container = {
        "name": "registry",
        "image": image,
        "args": ["registry", "serve", "--host", "0.0.0.0", "--port", str(PORT)],
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
        "env": [
            secret_env("LMOS_STUDIO_REGISTRY_DB", SECRET_DB_KEY),
            secret_env("LMOS_STUDIO_REGISTRY_TOKEN", SECRET_TOKEN_KEY),
            {"name": "LMOS_STUDIO_DATA_DIR", "value": "/tmp/lmos-studio"},
        ],
        "readinessProbe": probe("/healthz", 5, 2),  # out of the Service while the database is away
        "livenessProbe": probe("/healthz/live", 10, 3),  # restarted only when the process stops answering
        "resources": {"requests": {"cpu": "100m", "memory": "192Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": dict(LABELS)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**meta, "labels": dict(labels)},
        "spec": {
            "selector": dict(LABELS),
            "ports": [
                {"name": PORT_NAME, "appProtocol": "http", "port": PORT, "targetPort": PORT_NAME, "protocol": "TCP"}
            ],
        },
    }
    allowed = sorted({*agent_namespaces, namespace})
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{NAME}-allow", "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "podSelector": {"matchLabels": dict(LABELS)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": allowed}
                                ]
                            }
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": PORT}],
                }
            ],
            "egress": [
                {"ports": [{"protocol": "TCP", "port": POSTGRES_PORT}]},  # the database, wherever it runs
                {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},  # DNS
            ],
        },
    }
    return [deployment, service, policy]
