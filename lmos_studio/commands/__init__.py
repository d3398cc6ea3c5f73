"""CLI commands of the feature areas; each module has `register(app: typer.Typer) -> None`.

`lmos_studio.cli` imports the modules named in AREAS that exist, so areas can be added independently.
"""

AREAS = ("formats", "registry", "design", "routing", "evaluation", "export", "lifecycle")
