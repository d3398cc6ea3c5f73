"""A hostile design with a secret planted in every place a description can carry one (tests/test_secrets_audit.py).

Every planted secret is a unique text (`SECRETS`): no output of Studio may hold any of them. `KEPT` are texts of
the same design that are not secrets (a plain URL, capability names, versions, a Secret *name*): they must come
through unmasked. Each secret has the shape that makes it one: a URL's user-info or token parameter, a
`Bearer`/`Basic` credential, an `sk-` API key, a JWT, a PEM private key block, or the value of a credential-named
key; where it sits (env value under an innocent name, label, annotation, JSON inside an annotation, unknown field,
routing test query, group description) says nothing about it.
"""

from __future__ import annotations

import json
from pathlib import Path


def api_key(body: str) -> str:
    """An API key of the `sk-` shape with `body` after the dash, made at run time: the repository holds no
    key-shaped literal for secret scanners to flag, and the tests still see the shape."""
    return "-".join(("sk", body))


# each secret: a unique text that must never be printed, saved, exported or logged
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlbnYtYmVhcmVyIn0.EnvBearerSig0001xyz"
SK_ENV = api_key("proj-EnvSkKey0123456789abcdefABCDEF")
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCPemBody00042"
BASIC_ENV = "c3ZjOkVudkJhc2ljUGFzczQ0"  # base64 of svc:EnvBasicPass44
ENV_URL_PASS = "EnvUrlPass77"
ENV_QUERY_KEY = "EnvQueryKey88"
SCHEME_KEY = "SchemeApiKey42"
SCHEME_BEARER = "SchemeBearerTok43abcdef"
ENDPOINT_PASS = "EndpointPass31"
ENDPOINT_TOKEN = "EndpointTok32"
HEADER_TOKEN = "HeaderBearerTok33abcdef"
HEADER_BASIC = "SGVhZGVyOkJhc2ljMzQ0NA=="
CARD_URL_PASS = "CardUrlPass21"
CARD_SCHEME_KEY = "CardSchemeKey22"
CARD_EXT_TOKEN = "CardExtToken23"
CARD_EXT_BEARER = "CardExtBearer24abcdef"
TD_BASE_PASS = "TdBasePass11"
TD_SCHEME_TOKEN = "TdSchemeTok12abcdef"
TD_SK = api_key("TdSkKey0123456789abcdefghijkl")
LABEL_SK = api_key("LabelKey0123456789abcdefgh")
ANNOTATION_PASS = "AnnoUrlPass51"
ANNOTATION_JSON_KEY = "AnnoJsonKey52"
ANNOTATION_JSON_BEARER = "AnnoJsonBearer53abcdef"
ORIGINAL_JSON_KEY = "OrigJsonKey54"
ORIGINAL_JSON_URL_PASS = "OrigJsonUrlPass55"
SPEC_EXTRA_TOKEN = "SpecExtraTok61"
STATUS_EXTRA_SK = api_key("StatusKey0123456789abcdefgh")
STUDIO_EXTRA_PASS = "StudioExtraPass63"
OTHER_JSON_TOKEN = "OtherJsonTok64"
CHANNEL_ANNO_KEY = "ChannelAnnoKey65"
QUERY_PASS = "QueryUrlPass71"
QUERY_SK = api_key("QueryKey0123456789abcdefgh")
GROUP_TOKEN = "GroupBearerTok72abcdef"
EDGE_PASS = "EdgeUrlPass73"
DESIGN_SK = api_key("DesignKey0123456789abcdefgh")

SECRETS = tuple(value for name, value in sorted(globals().items()) if name.isupper() and isinstance(value, str))

# not secrets: each must come through as written wherever the design's text is shown
KEPT = (
    "https://docs.example/billing/guide",  # a plain URL
    "view-bill",  # a capability name
    "1.4.2",  # a version
    "billing-llm",  # a Secret's name (a reference, not a secret)
    "region=eu",  # an innocent query parameter next to a secret one
)

CARD = {
    "name": "Device Orders",
    "description": "Orders phones; guide at https://docs.example/billing/guide",
    "version": "1.4.2",
    "supportedInterfaces": [
        {"url": f"https://bob:{CARD_URL_PASS}@orders.example/a2a?region=eu", "protocolBinding": "JSONRPC"}
    ],
    "capabilities": {
        "streaming": True,
        "extensions": [
            {
                "uri": f"https://ext.example/auth?access_token={CARD_EXT_TOKEN}",
                "params": {"header": f"Bearer {CARD_EXT_BEARER}"},
            }
        ],
    },
    "securitySchemes": {
        "header": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
        "vendor": {"type": "http", "apiKey": CARD_SCHEME_KEY},
    },
    "skills": [{"id": "order", "name": "order", "description": "Orders a phone", "tags": ["t"]}],
}

TD = {
    "@context": ["https://www.w3.org/2022/wot/td/v1.1", {"lmos": "https://eclipse.dev/lmos/protocol/v1"}],
    "id": "urn:lmos:agent:weather",
    "title": "weather",
    "base": f"https://td:{TD_BASE_PASS}@weather.example/",
    "securityDefinitions": {
        "bearer_sc": {"scheme": "bearer", "format": "jwt", "lmos:example": f"Bearer {TD_SCHEME_TOKEN}"},
        "apikey_sc": {"scheme": "apikey", "in": "header", "name": "X-Key", "lmos:default": TD_SK},
    },
    "security": "bearer_sc",
    "lmos:capabilities": [{"name": "forecast", "version": "1.0.0"}],
}

# a hand-written resource's annotation holding what `lmos-studio import` writes there (read into `original`)
ORIGINAL = {
    "format": "a2a",
    "document": {
        "name": "Contract",
        "version": "1.0.0",
        "description": "Contracts",
        "supportedInterfaces": [
            {"url": f"https://c:{ORIGINAL_JSON_URL_PASS}@contract.example/a2a", "protocolBinding": "JSONRPC"}
        ],
        "securitySchemes": {"vendor": {"type": "http", "apiKey": ORIGINAL_JSON_KEY}},
        "skills": [{"id": "view-contract", "name": "view-contract", "description": "Shows a contract", "tags": []}],
    },
}


def _json(value: object) -> str:
    return json.dumps(json.dumps(value))  # a YAML (JSON) string holding the JSON text


DESIGN_YAML = f"""\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: billing-agent
  labels:
    version: "1.4.2"
    subset: stable
    cfg: {LABEL_SK}
  annotations:
    example.com/upstream: "https://ops:{ANNOTATION_PASS}@upstream.example/billing"
    example.com/config: {
    _json(
        {
            "auth": {"apiKey": ANNOTATION_JSON_KEY},
            "header": f"Bearer {ANNOTATION_JSON_BEARER}",
            "docs": "https://docs.example/billing/guide",
        }
    )
}
  extraMeta: keep
spec:
  description: Bills; guide at https://docs.example/billing/guide
  supportedTenants: [acme]
  supportedChannels: [web]
  providedCapabilities:
    - name: view-bill
      version: 1.4.2
      description: Shows a bill
      examples: [show my bill, how much do I owe]
  upstreamConfig:
    endpoint: "https://billing.example/api?token={SPEC_EXTRA_TOKEN}&region=eu"
status:
  lastKey: {STATUS_EXTRA_SK}
---
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: contract-agent
  labels: {{version: "1.0.0", subset: stable}}
  annotations:
    studio.lmos.eclipse/original: {_json(ORIGINAL)}
spec:
  supportedTenants: [acme]
  supportedChannels: [web]
  providedCapabilities:
    - {{name: view-contract, version: 1.0.0, description: Shows a contract, examples: [show my contract]}}
---
apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {{name: device-orders, labels: {{version: "1.4.2"}}}}
spec:
  description: Orders phones
  supportedTenants: [acme]
  supportedChannels: [web]
  providedCapabilities: [{{name: order, version: 1.4.2, description: Orders a phone, examples: [order a phone]}}]
---
apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {{name: weather}}
spec:
  providedCapabilities: [{{name: forecast, version: 1.0.0, description: The weather, examples: [will it rain]}}]
---
apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: acme-web-stable
  labels: {{tenant: acme, channel: web, version: "1.0.0", subset: stable}}
  annotations:
    example.com/settings: {_json({"clientSecret": CHANNEL_ANNO_KEY, "docs": "https://docs.example/billing/guide"})}
spec:
  requiredCapabilities:
    - {{name: view-bill, version: ">=1.0.0"}}
    - {{name: view-contract, version: ">=1.0.0"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: billing-config}}
data:
  config.json: {_json({"token": OTHER_JSON_TOKEN, "url": "https://docs.example/billing/guide"})}
---
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata: {{name: hostile}}
spec:
  description: "Secrets everywhere (fallback key {DESIGN_SK})"
  agents:
    - name: billing-agent
      endpoints:
        - protocol: wss
          uri: "wss://bot:{ENDPOINT_PASS}@billing.example/ws?token={ENDPOINT_TOKEN}&region=eu"
          extras:
            headers:
              Authorization: "Bearer {HEADER_TOKEN}"
              X-Fallback: "Basic {HEADER_BASIC}"
        - {{protocol: https, uri: "https://docs.example/billing/guide"}}
      security:
        - {{name: vendor, scheme: apikey, extras: {{in: header, apiKey: {SCHEME_KEY}}}}}
        - {{name: bearer_sc, scheme: bearer, extras: {{example: "Bearer {SCHEME_BEARER}"}}}}
      workload:
        image: ghcr.io/acme/billing-agent:1.4.2
        env:
          - {{name: UPSTREAM_AUTH_HEADER, value: "Bearer {JWT}"}}
          - {{name: UPSTREAM_URL, value: "https://svc:{ENV_URL_PASS}@upstream.example/v1?api_key={ENV_QUERY_KEY}"}}
          - {{name: LLM_FALLBACK, value: "{SK_ENV}"}}
          - {{name: SIGNING_MATERIAL, value: "-----BEGIN PRIVATE KEY-----\\n{PEM_BODY}\\n-----END PRIVATE KEY-----\\n"}}
          - {{name: PROXY_LOGIN, value: "Basic {BASIC_ENV}"}}
          - {{name: DOCS_URL, value: "https://docs.example/billing/guide"}}
          - {{name: OPENAI_API_KEY, secretName: billing-llm, secretKey: api-key}}
    - name: device-orders
      originalFormat: a2a
      original: {json.dumps(CARD)}
    - name: weather
      originalFormat: td
      original: {json.dumps(TD)}
  groups:
    - name: billing-domain
      description: "PCI scope; ops token Bearer {GROUP_TOKEN}"
      members: [billing-agent]
  trustEdges:
    - caller: contract-agent
      callee: billing-agent
      capabilities: [view-bill]
      protocol: http
      description: "via https://edge:{EDGE_PASS}@gateway.example/"
  routingTests:
    - {{query: "show my bill from https://me:{QUERY_PASS}@portal.example/", channel: acme-web-stable,
        expectAgent: billing-agent}}
    - {{query: "my key {QUERY_SK} shows my bill", channel: acme-web-stable, expectAgent: billing-agent}}
  vaultSettings:
    url: "https://vault:{STUDIO_EXTRA_PASS}@vault.example/"
"""


# what export refuses rather than masks (a Deployment's env value or a label written as *** would be wrong)
REFUSED_ON_EXPORT = (
    "    cfg: ",
    "{name: UPSTREAM_AUTH_HEADER",
    "{name: UPSTREAM_URL",
    "{name: LLM_FALLBACK",
    "{name: SIGNING_MATERIAL",
    "{name: PROXY_LOGIN",
)


def write_secret_design(folder: Path, *, exportable: bool = False) -> Path:
    """The hostile design as one YAML file in `folder`; `exportable`: without the label and env values export
    refuses (`REFUSED_ON_EXPORT`), every other secret still in it."""
    text = DESIGN_YAML
    if exportable:
        text = "".join(
            line
            for line in text.splitlines(keepends=True)
            if not line.lstrip(" -").startswith(tuple(r.strip() for r in REFUSED_ON_EXPORT))
        )
    path = folder / ("exportable.yaml" if exportable else "hostile.yaml")
    path.write_text(text, encoding="utf-8")
    return path


def leaked(text: str | bytes) -> list[str]:
    """The planted secrets `text` holds."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return [secret for secret in SECRETS if secret in text]
