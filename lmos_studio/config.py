"""Settings: the only reader of the environment. Every variable is listed in README.md › Configuration.

LMOS Studio variables start with `LMOS_STUDIO_`; the LLM features also read the OpenAI client's usual
`OPENAI_BASE_URL` / `OPENAI_API_KEY`. Secrets are `SecretStr`: they never print, log or export.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lmos_studio import bundled
from lmos_studio.errors import ConfigError

SAMPLES_DIR = bundled.samples_dir()  # in the installed package or the checkout (lmos_studio/bundled.py)
DEFAULT_SAMPLE = bundled.default_sample()


class Settings(BaseSettings):
    """Every setting, read once from the environment (and nothing else)."""

    model_config = SettingsConfigDict(env_prefix="LMOS_STUDIO_", extra="ignore")

    design: Path | None = None  # design opened at app start; default: the acme sample
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("lmos-studio")))
    registry_db: SecretStr | None = None  # SQLite file or postgresql://… URL; default: <data_dir>/registry.sqlite3
    registry_token: SecretStr | None = None  # bearer token the registry server requires for writes
    registry_timeout_s: float = 5.0  # per request to remote registries
    registry_max_body_kb: int = 1024  # registry server: request bodies larger than this get 413
    mdns_interfaces: str = "127.0.0.1"  # mDNS announce/discover: comma-separated IPv4 addresses, or "all"
    kubeconfig: str | None = Field(
        default=None,
        validation_alias=AliasChoices(  # kubectl's variable too
            "LMOS_STUDIO_KUBECONFIG", "KUBECONFIG"
        ),
    )  # the first path of the list is read
    kubernetes_service_host: str | None = Field(
        default=None, validation_alias=AliasChoices("KUBERNETES_SERVICE_HOST")
    )  # set by Kubernetes in a pod: in-cluster registry source
    kubernetes_service_port: str = Field(default="443", validation_alias=AliasChoices("KUBERNETES_SERVICE_PORT"))
    max_upload_mb: float = 10.0  # design uploads larger than this are refused
    design_cache_mb: float = Field(default=512.0, ge=0.0)  # read designs kept in <data_dir>/design-cache; 0 = off
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("LMOS_STUDIO_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("LMOS_STUDIO_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str = "gpt-4o-mini"  # lmos-router's default model
    llm_timeout_s: float = 30.0
    embedding_model: str | None = None  # OpenAI-compatible /embeddings model; unset = local MiniLM or none
    hybrid_threshold: float = Field(default=0.8, ge=0.0, le=1.0)  # hybrid router: fast track at ≥ this score

    @property
    def registry_target(self) -> str:
        """What the registry store opens: a SQLite file path or a PostgreSQL URL (which may hold a password)."""
        given = self.registry_db.get_secret_value() if self.registry_db else ""
        return given or str(self.data_dir / "registry.sqlite3")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process; a malformed variable is a `ConfigError` naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "LMOS_STUDIO_" + "_".join(str(p) for p in err["loc"]).upper()
        raise ConfigError(f"{name}: {err['msg']}; fix or unset the environment variable") from exc
