"""The one exception tree of LMOS Studio; the UI and the CLI catch only `LmosStudioError`.

```
LmosStudioError
├── ConfigError          bad or missing setting (names the environment variable)
├── DesignFileError      a file failed to parse or validate (.path, .line, .field)
│   └── DesignChangedError  a save refused: the design's file(s) changed on disk since read (.changed)
├── VersionError         a provided version that is not strict SemVer (.value, .agent, .capability)
├── ResolveError         resolution could not run (the operator would fail the reconcile)
├── RegistryError        (.url, .status_code)
│   ├── RegistryUnavailable
│   └── AgentNotFound
├── RoutingError         (.router)
│   ├── LlmReplyError    the model answered, but not with a usable agent
│   └── RouterUnavailable  the router cannot run at all (an LLM endpoint unset, unreachable or refusing the key)
├── LintError            lint could not run on the input
├── EditError            an edit would make the design inconsistent (duplicate or unknown name)
└── ExportError          the design cannot become a valid manifest (.resource, .field)
    └── ExportOptionError  an export option's value is refused, not the design (.field: the flag or form field)
```

Every message says what failed, where (file:line, field path, URL) and what to do.
"""

from __future__ import annotations

from pathlib import Path

from lmos_studio.redact import redact_text, redact_url


class LmosStudioError(Exception):
    """Base of every error LMOS Studio raises on purpose; its text never shows a URL's credentials."""

    def __str__(self) -> str:
        return redact_text(super().__str__())


class ConfigError(LmosStudioError):
    """A setting is missing or malformed; the message names the environment variable."""


class DesignFileError(LmosStudioError):
    """A file failed to parse or validate."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        if field:
            where += f"{field}: "
        super().__init__(where + message)
        self.reason = message


class DesignChangedError(DesignFileError):
    """A save refused because the design's file, or files of its folder, changed on disk since the design was
    read: writing would throw those changes away. `.path` is the file or folder; `.changed` each file of a folder
    that changed as (its path relative to the folder, "changed" | "is new" | "is gone"), empty for a single file,
    so the Designer and the CLI each say what to do (`changes`)."""

    def __init__(self, path: str, changed: tuple[tuple[str, str], ...] = ()) -> None:
        self.changed = changed
        what = f" ({'; '.join(self.changes())})" if changed else ""
        super().__init__(f"changed on disk since it was read{what}; nothing was written", path=path)

    def changes(self, *, full: bool = False) -> list[str]:
        """Each change as "NAME changed" (NAME relative to the folder, or with `full` the file's whole path; a single
        file: its path, "changed")."""
        if not self.changed:
            return [f"{self.path} changed"]
        return [f"{Path(self.path or '', name) if full else name} {how}" for name, how in self.changed]


class VersionError(LmosStudioError):
    """A provided capability version is not strict SemVer."""

    def __init__(
        self,
        message: str,
        *,
        value: str,
        agent: str | None = None,
        capability: str | None = None,
        path: str | None = None,
    ) -> None:
        self.value = value
        self.agent = agent
        self.capability = capability
        self.path = path
        super().__init__(message)


class ResolveError(LmosStudioError):
    """Resolution could not run (the operator would fail the reconcile, not report UNRESOLVED)."""


class RegistryError(LmosStudioError):
    """A registry could not be read or written."""

    def __init__(self, message: str, *, url: str | None = None, status_code: int | None = None) -> None:
        self.url = redact_url(url) if url else url
        self.status_code = status_code
        super().__init__(message)


class RegistryUnavailable(RegistryError):
    """The registry did not answer (connection refused, time-out, 5xx)."""


class AgentNotFound(RegistryError):
    """The registry has no agent of that id."""


class RoutingError(LmosStudioError):
    """A router could not route."""

    def __init__(self, message: str, *, router: str | None = None) -> None:
        self.router = router
        super().__init__(message)


class LlmReplyError(RoutingError):
    """The model answered, but not with a usable agent; the message quotes the reply's start."""


class RouterUnavailable(RoutingError):
    """The router cannot run at all: its LLM endpoint is not set, cannot be reached, times out, refuses the key
    or fails. Not a fault of one channel: a run of routing tests stops on it (exit 2), as `route` and `eval` do."""


class LintError(LmosStudioError):
    """Lint could not run on the input."""


class EditError(LmosStudioError):
    """An edit was refused: it names an unknown agent/group, a duplicate, or an invalid value."""


class ExportError(LmosStudioError):
    """The design cannot become a valid manifest; names the resource and field."""

    def __init__(self, message: str, *, resource: str | None = None, field: str | None = None) -> None:
        self.resource = resource
        self.field = field
        super().__init__(message)


class ExportOptionError(ExportError):
    """An export option's value is refused (the design itself may be fine): the message names the CLI's flag, or
    the form's field when the value was typed there, and what to change."""
