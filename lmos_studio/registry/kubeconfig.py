"""Where a Kubernetes cluster is and how to log in: a kubeconfig file or a pod's service account.

The kubeconfig is read by the same hardened YAML reader as designs (`formats.yamlio`: size cap, nesting depth,
alias-bomb and tag limits, errors with the line); the files it names (CA, certificate, key, token) are read
with a size cap too.

No HTTP here (the client is `clients.KubernetesClient`); exec/auth-provider plugins are refused, not run.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmos_studio.errors import ConfigError, DesignFileError
from lmos_studio.formats import yamlio

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
MAX_KUBECONFIG_BYTES = 4 * 2**20  # kubeconfigs with many clusters and inline certificates stay far below
MAX_CREDENTIAL_BYTES = 1 * 2**20  # one CA bundle, certificate, key or token file
IN_CLUSTER_CONTEXT = "in-cluster"  # the context name of a pod's service-account config


@dataclass(frozen=True)
class KubeConfig:
    """How to reach one cluster: API server, trust, credentials, default namespace (no secret is printed)."""

    server: str
    namespace: str = "default"
    context: str = ""
    token: str | None = field(default=None, repr=False)
    ca_pem: str | None = field(default=None, repr=False)
    client_cert_pem: str | None = field(default=None, repr=False)
    client_key_pem: str | None = field(default=None, repr=False)
    insecure: bool = False


def _named(items: Any, name: str, what: str, path: str) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get(what), dict):
            return dict(item[what])
    raise ConfigError(f"{path}: no {what} named {name!r}; pick one of `kubectl config get-contexts`")


def _file_or_data(entry: dict[str, Any], key: str, base: Path) -> str | None:
    if entry.get(f"{key}-data"):
        return base64.b64decode(str(entry[f"{key}-data"])).decode("utf-8")
    if entry.get(key):
        path = Path(str(entry[key])).expanduser()
        return _read_small(path if path.is_absolute() else base / path)
    return None


def kubeconfig_contexts(path: Path | None = None) -> list[str]:
    """The context names of a kubeconfig file (default: $KUBECONFIG's first file or ~/.kube/config)."""
    raw = _read_kubeconfig(path or default_kubeconfig())
    return [str(c.get("name")) for c in raw.get("contexts") or [] if isinstance(c, dict)]


def default_kubeconfig() -> Path:
    from lmos_studio.config import get_settings

    env = get_settings().kubeconfig or ""  # LMOS_STUDIO_KUBECONFIG or kubectl's own KUBECONFIG
    return Path(env.split(os.pathsep)[0]).expanduser() if env else Path.home() / ".kube" / "config"


def _read_small(path: Path) -> str:
    """A credential file's text, refused (OSError → ConfigError by the caller) above MAX_CREDENTIAL_BYTES, or when
    no regular file (`tokenFile: /dev/zero` filled the memory, a named pipe blocked)."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        raise OSError(f"{path} is not a regular file (a device, a pipe or a socket); not a credential file")
    if status.st_size > MAX_CREDENTIAL_BYTES:
        raise OSError(f"{path} is larger than {MAX_CREDENTIAL_BYTES // 2**20} MiB; not a credential file")
    return path.read_text()


def _read_kubeconfig(path: Path) -> dict[str, Any]:
    try:
        docs = yamlio.load_documents(yamlio.read_text(path, max_bytes=MAX_KUBECONFIG_BYTES), path=str(path))
    except DesignFileError as exc:
        hint = "give another (--kubeconfig PATH, or the Registry page's kubeconfig field)"
        raise ConfigError(f"cannot read the kubeconfig: {exc}; {hint}") from exc
    raw = docs[0] if len(docs) == 1 else None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a kubeconfig (a YAML mapping with clusters, users, contexts)")
    return raw


def load_kubeconfig(path: Path | None = None, *, context: str | None = None) -> KubeConfig:
    """Read a kubeconfig file ourselves (the hardened YAML reader): server, CA, bearer token or client certificate."""
    path = path or default_kubeconfig()
    raw = _read_kubeconfig(path)
    name = context or str(raw.get("current-context") or "")
    try:
        ctx = _named(raw.get("contexts"), name, "context", str(path))
        cluster = _named(raw.get("clusters"), str(ctx.get("cluster")), "cluster", str(path))
        user = _named(raw.get("users"), str(ctx.get("user")), "user", str(path)) if ctx.get("user") else {}
        if "exec" in user or "auth-provider" in user:
            raise ConfigError(
                f"{path}: user {ctx.get('user')!r} uses an exec/auth-provider plugin, "
                "which LMOS Studio does not run; use a context with a token or a client "
                "certificate"
            )
        token = user.get("token") or (
            _file_or_data({"f": user["tokenFile"]}, "f", path.parent) if user.get("tokenFile") else None
        )
        return KubeConfig(
            server=str(cluster.get("server") or ""),
            namespace=str(ctx.get("namespace") or "default"),
            context=name,
            token=str(token).strip() if token else None,
            ca_pem=_file_or_data(cluster, "certificate-authority", path.parent),
            client_cert_pem=_file_or_data(user, "client-certificate", path.parent),
            client_key_pem=_file_or_data(user, "client-key", path.parent),
            insecure=bool(cluster.get("insecure-skip-tls-verify")),
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: a file or base64 value in the kubeconfig cannot be read: {exc}") from exc


def in_cluster_config(root: Path = SERVICE_ACCOUNT) -> KubeConfig:
    """The pod's service-account config (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA)."""
    from lmos_studio.config import get_settings

    settings = get_settings()
    host, port = settings.kubernetes_service_host, settings.kubernetes_service_port
    if not host or not (root / "token").exists():
        raise ConfigError(
            "not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST or the service-account "
            "token is missing); give a kubeconfig instead"
        )
    namespace = (root / "namespace").read_text().strip() if (root / "namespace").exists() else "default"
    ca = (root / "ca.crt").read_text() if (root / "ca.crt").exists() else None
    return KubeConfig(
        server=f"https://{host}:{port}",
        namespace=namespace,
        context=IN_CLUSTER_CONTEXT,
        token=(root / "token").read_text().strip(),
        ca_pem=ca,
    )
