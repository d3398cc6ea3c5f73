"""Kubernetes naming rules (RFC 1123 labels and subdomains, RFC 1035 labels, label values) as predicates and reasons.

Pure string checks, no I/O: lint reports them as `invalid-name`, edits refuse them up front.
"""

from __future__ import annotations

import re

DNS1123_LABEL_MAX = 63  # RFC 1123 label, Kubernetes Service and Namespace names
DNS1123_SUBDOMAIN_MAX = 253  # RFC 1123 subdomain, most object names
LABEL_VALUE_MAX = 63  # Kubernetes label values

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def dns1123_label_problem(name: str) -> str | None:
    """Why `name` is not an RFC 1123 label (None when it is one)."""
    if not name:
        return "is empty"
    if len(name) > DNS1123_LABEL_MAX:
        return f"is {len(name)} characters long (at most {DNS1123_LABEL_MAX})"
    if not _LABEL.match(name):
        return "must be lowercase letters, digits and '-', starting and ending with a letter or digit"
    return None


def dns1035_label_problem(name: str) -> str | None:
    """Why `name` is not an RFC 1035 label, the rule for Service names (None when it is one): an RFC 1123 label
    that starts with a letter. An Agent's name is its Service's name (the runtime calls
    `<agent>.<namespace>.svc.cluster.local`), so an agent named '1billing' cannot be reached."""
    problem = dns1123_label_problem(name)
    if problem is None and not name[0].isalpha():
        return "must start with a letter"  # the caller names the rule (a Service name, RFC 1035)
    return problem


def dns1123_subdomain_problem(name: str) -> str | None:
    """Why `name` is not an RFC 1123 subdomain (None when it is one)."""
    if not name:
        return "is empty"
    if len(name) > DNS1123_SUBDOMAIN_MAX:
        return f"is {len(name)} characters long (at most {DNS1123_SUBDOMAIN_MAX})"
    if not _SUBDOMAIN.match(name):
        return "must be lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit"
    return None


def label_value_problem(value: str) -> str | None:
    """Why `value` is not a valid Kubernetes label value (None when it is; empty is valid)."""
    if len(value) > LABEL_VALUE_MAX:
        return f"is {len(value)} characters long (at most {LABEL_VALUE_MAX})"
    if not _LABEL_VALUE.match(value):
        return "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def suggest_name(name: str, *, letter_prefix: str = "") -> str:
    """A valid RFC 1123 label close to `name` (for the fix of a finding); with `letter_prefix`, one that also
    starts with a letter (an RFC 1035 label: `letter_prefix` goes before a leading digit)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if letter_prefix and cleaned[:1].isdigit():
        cleaned = letter_prefix + cleaned
    return cleaned[:DNS1123_LABEL_MAX].rstrip("-") or "unnamed"
