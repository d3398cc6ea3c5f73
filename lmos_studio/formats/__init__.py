"""Readers and writers of agent descriptions and design files, one module per format.

`lmos` (LMOS custom resources), `design_file` (a design: resources + the StudioDesign document), `td` (LMOS
WoT Thing Descriptions), `a2a` (A2A Agent Cards v0.3/v1.0), `capabilities_doc` (the operator's
capabilities.json), `routing_spec` (lmos-router AgentRoutingSpec, seed and classifier documents);
`detect` reads any of them and writes any of them; `description` holds the rules they share.
"""
