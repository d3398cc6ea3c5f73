"""Export a design as deployable LMOS + Kubernetes manifests (kustomize folder, zip) and import them back.

`bundle.export_design` builds and validates every document; `kustomize` writes the folder and the zip;
`importer` reads a folder, multi-document YAML or zip back into a design.
"""
