"""`lmos-studio export` (design → validated kustomize folder and/or zip) and `lmos-studio import-manifests`
(an exported folder, YAML or zip → a design file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmos_studio.commands._shell import (
    EXIT_INVALID,
    EXIT_PROBLEMS,
    Paths,
    check_design_out,
    check_out_of_folders,
    emit,
    fail,
    load,
    render_table,
    say,
    tell,
)
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.export.hand_edits import hand_edit_warnings
from lmos_studio.export.importer import export_kustomizations, import_manifests
from lmos_studio.formats.design_file import masked_credentials
from lmos_studio.formats.design_folder import save_design_at


def export(
    paths: Paths,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the kustomize folder here (new, empty, or an earlier export, which is replaced).",
        ),
    ] = None,
    zip_file: Annotated[Path | None, typer.Option("--zip", help="Also (or only) write a zip of the folder.")] = None,
    yaml_file: Annotated[
        Path | None, typer.Option("--yaml", help="Also (or only) write one multi-document YAML.")
    ] = None,
    namespace: Annotated[str | None, typer.Option(help="Move a single-namespace design into this namespace.")] = None,
    with_workloads: Annotated[
        bool,
        typer.Option(
            "--with-workloads",
            help="Deployment, Service, ServiceAccount per agent with a workload, and "
            "NetworkPolicies from the trust edges.",
        ),
    ] = False,
    with_istio: Annotated[
        bool,
        typer.Option("--with-istio", help="Istio AuthorizationPolicy per agent (implies --with-workloads)."),
    ] = False,
    lmos_namespace: Annotated[
        str, typer.Option(help="Namespace of lmos-runtime and lmos-operator (admitted to every agent).")
    ] = "default",
    with_registry: Annotated[
        bool,
        typer.Option(
            "--with-registry",
            help="The registry too: 2 replicas on PostgreSQL in --lmos-namespace, Service, NetworkPolicy "
            "(token and database URL from Secret lmos-studio-registry).",
        ),
    ] = False,
    registry_image: Annotated[
        str, typer.Option(help="Container image of lmos-studio for --with-registry.")
    ] = "lmos-studio:0.1.0",
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml (the reports).")] = "table",
) -> None:
    """Export a design as LMOS + Kubernetes manifests, validated offline before anything is written.

    An earlier export may be the design: its generated documents are dropped and written anew, and a warning
    names each one edited by hand (the edit is lost), as import-manifests does.

    Exit 0 on success, 2 when the design cannot become valid manifests (nothing is written then).
    """
    if out is None and zip_file is None and yaml_file is None:
        fail("give --out DIR, --zip FILE and/or --yaml FILE")
    if output not in ("table", "json", "yaml"):  # before anything is written
        fail(f"--output {output!r} is not supported here; use json, yaml or table")
    kustomize.check_targets(out=out, zip_file=zip_file, yaml_file=yaml_file)  # all or nothing is written
    for flag, target in (("--out", out), ("--yaml", yaml_file)):  # (the folder itself: an earlier export, replaced)
        if target is not None:
            check_out_of_folders(target, paths, flag)
    loaded = load(paths)
    design = loaded.design
    kustomizations = [found for path in paths for found in export_kustomizations(path, loaded.files)]
    for warning in hand_edit_warnings(design, loaded.derived, kustomizations=kustomizations):  # an earlier export
        say("warning", warning)
    options = ExportOptions(
        with_workloads=with_workloads,
        with_istio=with_istio,
        namespace=namespace,
        lmos_namespace=lmos_namespace,
        with_registry=with_registry,
        registry_image=registry_image,
    )
    bundle = export_design(design, options, locations=loaded.locations)
    files = kustomize.render(bundle)
    if out is not None:
        kustomize.write_folder(bundle, out, files)
    if zip_file is not None:
        kustomize.write_zip(bundle, zip_file, files)
    if yaml_file is not None:
        kustomize.write_yaml(bundle, yaml_file, files)
    for note in bundle.notes:
        say("note", note)
    data = {
        "files": len(files),
        "applied": len(bundle.applied_paths),
        "out": str(out) if out else None,
        "zip": str(zip_file) if zip_file else None,
        "yaml": str(yaml_file) if yaml_file else None,
        "validation": bundle.validation.rows,
        "policy": bundle.policy.to_rows(),
        "notes": bundle.notes,
    }

    def table() -> str:
        where = " and ".join(str(p) for p in (out, zip_file, yaml_file) if p is not None)
        lines = [
            f"ok: {len(files)} files ({len(bundle.applied_paths)} applied by kustomize) written to {where}; "
            f"{len(bundle.validation.rows) - len(bundle.validation.not_validated)} documents valid"
        ]
        lines += [f"not validated: {r['resource']} ({r['status']})" for r in bundle.validation.not_validated]
        if bundle.policy.rows:
            lines.append(
                render_table(
                    ["EDGE", "CALLER", "CALLEE", "STATUS", "NOTE"],
                    [[r.edge, r.caller, r.callee, r.status, r.note] for r in bundle.policy.rows],
                )
            )
        return "\n".join(lines)

    emit(data, output, table)


def import_back(
    source: Annotated[Path, typer.Argument(help="An exported folder, a (multi-document) YAML file or a zip.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="The design file to write (.yaml), or a design folder to write into (each resource into the file "
            "holding it, new ones into studio-added.yaml).",
        ),
    ],
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when there is any warning.")] = False,
) -> None:
    """Read exported manifests back into a design file (generated documents are dropped and regenerated
    on the next export; hand-written ones are kept). Exit 1 with --strict and any warning."""
    if not source.exists():
        fail(f"{source}: no such file or folder", EXIT_INVALID)
    check_out_of_folders(out, [source])
    check_design_out(out)
    result = import_manifests(source)
    warnings = result.warnings + masked_credentials(result.design)  # the file holds *** where these were
    for warning in warnings:
        say("warning", warning)
    saved = save_design_at(result.design, out)  # over a hand-written design (or a folder's files): comments are kept
    for warning in saved.warnings:  # what of its layout was not kept: no import warning for --strict
        say("warning", warning)
    for note in saved.notes:  # a design folder: where its new resources went
        say("note", note)
    design = result.design
    tell(
        f"ok: {len(design.agents)} agents, {len(design.channels)} channels, {len(design.trust_edges)} "
        f"trust edges, {len(design.other_resources)} other resources → {out}"
    )
    if strict and warnings:
        typer.echo(f"error: {len(warnings)} warning(s) and --strict", err=True)
        raise typer.Exit(EXIT_PROBLEMS)


def register(app: typer.Typer) -> None:
    """Add `export` and `import-manifests` to the CLI."""
    app.command("export")(export)
    app.command("import-manifests")(import_back)
