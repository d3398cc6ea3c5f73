"""Kubernetes documents for a design: LMOS Agents, Channels, ChannelRollouts, ChannelRouting previews,
and optional workloads (Deployment, Service, ServiceAccount) that follow the operator's discovery rules.

Pure functions over the model (LMOS.md §1.2–1.5, §1.8, §1.12); no validation and no I/O here. Studio-only
fields (source, original, endpoints, security, workload) never enter an LMOS resource. Fields the API server
writes (uid, resourceVersion, managedFields, status, …) are dropped so that the output applies cleanly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lmos_studio.errors import ExportError
from lmos_studio.formats.design_file import GENERATED_ANNOTATION, PREVIEW_ANNOTATION
from lmos_studio.formats.lmos import agent_to_resource, channel_to_resource, rollout_to_resource
from lmos_studio.formats.yamltypes import kind_of
from lmos_studio.model import CHANNEL_LABELS, DEFAULT_SUBSET, Agent, Channel, ChannelRollout, EnvVar
from lmos_studio.names import dns1123_label_problem, dns1123_subdomain_problem
from lmos_studio.redact import looks_like_key, redact_text
from lmos_studio.resolve import Resolution, channel_routing

MANAGED_BY = {"app.kubernetes.io/managed-by": "lmos-studio"}  # marks generated documents (dropped on import)
NAME_LABEL = "app.kubernetes.io/name"  # the stable pod label policies select agents by
SERVICE_PORT = 8080  # the runtime calls <agent>.<namespace>.svc.cluster.local:8080 (LMOS.md §1.12)
PORT_NAME = "http"  # the operator picks the port with appProtocol http (LMOS.md §1.8)
CONTAINER_NAME = "agent"
# Istio injects its sidecar into a pod labelled so in any namespace not labelled istio-injection=disabled
ISTIO_INJECT = {"sidecar.istio.io/inject": "true"}
SERVER_FIELDS = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "ownerReferences",
)
SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
# A literal env value under a name like these is refused: secrets go in as secretKeyRef only.
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")  # Kubernetes 1.30's IsEnvVarName (relaxed only in 1.32+)
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")  # IsConfigMapKey: a key of a Secret's data
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE)", re.IGNORECASE)


def without_server_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without what the API server writes (`SERVER_FIELDS`, `SERVER_ANNOTATIONS`, `status`)."""
    meta = {k: v for k, v in resource["metadata"].items() if k not in SERVER_FIELDS}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    if annotations:
        meta["annotations"] = annotations
    else:  # none, or `annotations:` left empty (null)
        meta.pop("annotations", None)
    out = {k: v for k, v in resource.items() if k != "status"}
    out["metadata"] = meta
    return out


def agent_resource(agent: Agent) -> dict[str, Any]:
    """The `Agent`: explicit namespace and an explicit `subset` label (LMOS.md §1.12)."""
    if "subset" not in agent.labels:
        agent = agent.model_copy(update={"labels": {**agent.labels, "subset": DEFAULT_SUBSET}})
    return without_server_fields(agent_to_resource(agent, explicit_namespace=True))


def channel_resource(channel: Channel) -> dict[str, Any]:
    """The `Channel` with all four labels as strings (`subset` made explicit); no operator status."""
    ref = f"Channel {channel.key}"
    missing = channel.missing_labels
    if missing:
        raise ExportError(
            f"{ref}: metadata.labels.{missing[0]}: missing; the operator and the runtime find "
            f"Channels by all four labels {', '.join(CHANNEL_LABELS)}: add it",
            resource=ref,
            field=f"metadata.labels.{missing[0]}",
        )
    labels = dict(channel.labels)
    labels.setdefault("subset", DEFAULT_SUBSET)
    channel = channel.model_copy(update={"labels": labels})
    return without_server_fields(channel_to_resource(channel, explicit_namespace=True, with_status=False))


def rollout_resource(rollout: ChannelRollout) -> dict[str, Any]:
    """The `ChannelRollout` (inert in the operator today; LMOS.md §1.5)."""
    return without_server_fields(rollout_to_resource(rollout, explicit_namespace=True))


def routing_preview(resolution: Resolution) -> dict[str, Any]:
    """The ChannelRouting the operator would generate from the exported Channel, annotated as a preview (never
    applied). Its labels are copied from the Channel as `channel_resource` writes it: `subset` made explicit."""
    routing = channel_routing(resolution)
    routing["metadata"]["annotations"] = {PREVIEW_ANNOTATION: "true"}
    labels = {k: v or "" for k, v in routing["metadata"]["labels"].items()}
    labels["subset"] = resolution.channel.subset  # the exported Channel carries it (DEFAULT_SUBSET if absent)
    routing["metadata"]["labels"] = labels
    owners = [o for o in routing["metadata"].pop("ownerReferences") if o.get("uid")]
    if owners:  # the operator's reference names the Channel's uid; without it the API server refuses one
        routing["metadata"]["ownerReferences"] = owners
    # an agent serving its capabilities document is replaced by the Agent the operator builds from it, named like
    # the workload with spec.id = the workload name: the document's (and the design's) id is ignored (LMOS.md §1.8)
    served = {
        w.agent.name for w in resolution.wires if w.agent.workload and w.agent.workload.serves_capabilities_document
    }
    for group in routing["spec"]["capabilityGroups"] if served else ():
        if group["name"] in served:
            group["id"] = group["name"]
    return routing


def pod_labels(agent: Agent) -> dict[str, str]:
    """Labels on the agent's pods: the policy selector and the subset (the Service selects on both)."""
    return {NAME_LABEL: agent.name, "subset": agent.subset}


def service_account_name(agent: Agent) -> str:
    """The ServiceAccount the agent's pods run as (its Istio principal)."""
    return (agent.workload.service_account if agent.workload else "") or agent.name


def check_service_accounts(agents: Sequence[Agent], *, istio: bool) -> None:
    """Refuse two agents of one namespace that run as one service account: the ServiceAccount would be written
    twice and, with Istio, one principal would stand for both (trust in one is trust in the other). With Istio an
    agent without workload counts too: its pods are taken to run as the account named like it."""
    seen: dict[tuple[str, str], Agent] = {}
    for agent in agents:
        if agent.workload is None and not istio:
            continue
        account = service_account_name(agent)
        first = seen.setdefault((agent.namespace, account), agent)
        if first is not agent:
            field = "workload.serviceAccount"
            raise ExportError(
                f"Agents {first.key} and {agent.key} both run as service account '{account}' ({field}, or the "
                "agent's name without one): its ServiceAccount would be written twice and Istio could not tell "
                "their pods apart; give each agent its own",
                resource=f"Agent {agent.key}",
                field=field,
            )


def _env(agent: Agent, index: int, var: EnvVar) -> dict[str, Any]:
    ref = f"Deployment {agent.key}"
    field = f"spec.template.spec.containers[0].env[{index}]"
    if not ENV_NAME.match(var.name):
        raise ExportError(
            f"{ref}: {field}.name: {var.name!r} is not an environment variable name the API server accepts "
            "(letters, digits, '_', '-', '.', not starting with a digit)",
            resource=ref,
            field=f"{field}.name",
        )
    if var.secret_name or var.secret_key:
        if not (var.secret_name and var.secret_key):
            raise ExportError(
                f"{ref}: {field} ({var.name}): a secret reference needs both secretName and secretKey",
                resource=ref,
                field=field,
            )
        selector = f"{field}.valueFrom.secretKeyRef"
        problem = dns1123_subdomain_problem(var.secret_name)
        if problem:
            raise ExportError(
                f"{ref}: {selector}.name: Secret name {var.secret_name!r} {problem}",
                resource=ref,
                field=f"{selector}.name",
            )
        if not SECRET_KEY.match(var.secret_key):
            raise ExportError(
                f"{ref}: {selector}.key: {var.secret_key!r} is not a Secret key (letters, digits, '-', '_', '.')",
                resource=ref,
                field=f"{selector}.key",
            )
        return {
            "name": var.name,
            "valueFrom": {"secretKeyRef": {"name": var.secret_name, "key": var.secret_key}},
        }
    if var.value and SECRET_NAME.search(var.name):
        raise ExportError(
            f"{ref}: {field} ({var.name}): looks like a secret but has a literal value; "
            "refer to a Secret instead (secretName + secretKey) — values are never exported",
            resource=ref,
            field=field,
        )
    if var.value and redact_text(var.value) != var.value:
        raise ExportError(
            f"{ref}: {field} ({var.name}): its literal value holds what looks like a secret (a credential in a "
            "URL, a Bearer/Basic credential, an API key, a JWT or a private key); refer to a Secret instead "
            "(secretName + secretKey) — values are never exported",
            resource=ref,
            field=field,
        )
    return {"name": var.name, "value": var.value or ""}


def key_like_env_notes(agent: Agent) -> list[str]:
    """A note per literal env value of the agent's workload that looks like a random key (`looks_like_key`) under a
    name that says nothing of a secret (those are refused): exported as written, since no rule tells it from
    configuration for certain, but worth a look."""
    if agent.workload is None:
        return []
    return [
        f"Deployment {agent.key}: spec.template.spec.containers[0].env[{index}] ({var.name}): its value looks like a "
        f"random key ({len(var.value)} characters); it is exported as written: if it is a credential, refer to a "
        "Secret instead (secretName + secretKey)"
        for index, var in enumerate(agent.workload.env)
        if var.value and not var.secret_name and looks_like_key(var.value)
    ]


def _check_service_account(agent: Agent) -> None:
    """Refuse a `workload.serviceAccount` no ServiceAccount can be named (the validator said "rename the agent",
    which changed nothing)."""
    account = agent.workload.service_account if agent.workload else ""
    problem = dns1123_label_problem(account) if account else None
    if problem:
        raise ExportError(
            f"Agent {agent.key}: workload.serviceAccount: {account!r} {problem} (the name of the ServiceAccount its "
            f"pods run as, an RFC 1123 label); set another, or clear it to run as '{agent.name}'",
            resource=f"Agent {agent.key}",
            field="workload.serviceAccount",
        )


def workload_resources(agent: Agent, *, istio: bool = False) -> list[dict[str, Any]]:
    """ServiceAccount, Deployment and Service of one agent (empty if the agent has no workload). With `istio`, the
    pods ask for Istio's sidecar themselves (`ISTIO_INJECT`): the export labels the Namespaces it writes for
    injection, but not `default` (nor the LMOS namespace), and without a sidecar no AuthorizationPolicy holds."""
    workload = agent.workload
    if workload is None:
        return []
    ref = f"Deployment {agent.key}"
    if not workload.image:
        raise ExportError(
            f"{ref}: spec.template.spec.containers[0].image: the agent's workload has no image; "
            "set workload.image or remove the workload",
            resource=ref,
            field="spec.template.spec.containers[0].image",
        )
    if workload.image != workload.image.strip():  # the API server refuses spaces around an image
        raise ExportError(
            f"{ref}: spec.template.spec.containers[0].image: {workload.image!r} has spaces around it; remove them",
            resource=ref,
            field="spec.template.spec.containers[0].image",
        )
    if workload.replicas < 0:  # the OpenAPI schema has no minimum; the API server would refuse it
        raise ExportError(
            f"{ref}: spec.replicas: {workload.replicas} is negative; set workload.replicas ≥ 0",
            resource=ref,
            field="spec.replicas",
        )
    if not 0 < workload.port < 65536:
        raise ExportError(
            f"{ref}: spec.template.spec.containers[0].ports[0].containerPort: {workload.port} is "
            "not a TCP port (1–65535)",
            resource=ref,
            field="spec.template.spec.containers[0].ports[0].containerPort",
        )
    _check_service_account(agent)
    labels = {**MANAGED_BY, **pod_labels(agent)}
    meta = {"name": agent.name, "namespace": agent.namespace}
    deployment_labels = dict(labels)
    if workload.serves_capabilities_document:  # only then: the operator fetches the document (§1.8, §1.12)
        deployment_labels["lmos-agent"] = "true"
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": workload.image,
        "ports": [{"name": PORT_NAME, "containerPort": workload.port, "protocol": "TCP"}],
    }
    if workload.env:
        container["env"] = [_env(agent, i, v) for i, v in enumerate(workload.env)]
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": service_account_name(agent),
            "namespace": agent.namespace,
            "labels": dict(labels),
        },
        "automountServiceAccountToken": False,
    }  # agents do not talk to the Kubernetes API
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**meta, "labels": deployment_labels},
        "spec": {
            "replicas": workload.replicas,
            "selector": {"matchLabels": pod_labels(agent)},
            "template": {
                "metadata": {"labels": {**labels, **(ISTIO_INJECT if istio else {})}},
                "spec": {"serviceAccountName": service_account_name(agent), "containers": [container]},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**meta, "labels": dict(labels)},  # named like the Agent: the runtime's host
        "spec": {
            "selector": pod_labels(agent),
            "ports": [
                {
                    "name": PORT_NAME,
                    "appProtocol": "http",
                    "port": SERVICE_PORT,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }
    return [account, deployment, service]


def mark_generated(doc: dict[str, Any]) -> dict[str, Any]:
    """Annotate a derived document so that import drops it (the next export derives it again)."""
    doc["metadata"]["annotations"] = {**doc["metadata"].get("annotations", {}), GENERATED_ANNOTATION: "true"}
    return doc


def namespace_resource(name: str, *, istio: bool) -> dict[str, Any]:
    """A Namespace for a non-default namespace of the design (Istio sidecar injection when asked)."""
    labels = dict(MANAGED_BY)
    if istio:
        labels["istio-injection"] = "enabled"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def kept_resource(raw: dict[str, Any], index: int) -> dict[str, Any]:
    """A document of a kind we do not model, as it was (minus server-written fields)."""
    meta = raw.get("metadata")
    if not raw.get("kind") or not raw.get("apiVersion") or not isinstance(meta, dict) or not meta.get("name"):
        ref = f"other resource #{index + 1} ({raw.get('kind') or 'no kind'})"
        raise ExportError(
            f"{ref}: needs apiVersion, kind and metadata.name to be exported; fix or remove it",
            resource=ref,
            field="metadata.name",
        )
    for field in ("labels", "annotations"):
        if not isinstance(meta.get(field) or {}, dict):  # empty (null) is fine: Kubernetes reads it as none
            namespace = meta.get("namespace")
            ref = f"{raw['kind']} {f'{namespace}/' if namespace else ''}{meta['name']}"
            raise ExportError(
                f"{ref}: metadata.{field} must be a mapping of names to strings, not {kind_of(meta[field])}; "
                "fix or remove it",
                resource=ref,
                field=f"metadata.{field}",
            )
    return without_server_fields(raw)
