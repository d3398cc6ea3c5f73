"""Export: validated LMOS + Kubernetes manifests of the open design, the trust → policy report, the zip,
and the diff against the last export or an uploaded design."""

import streamlit as st

from lmos_studio import LmosStudioError
from lmos_studio.markdown import escape as md
from lmos_studio.ui import export as ui
from lmos_studio.ui import resources, state, widgets

design = state.current_design()
st.title(f"Export · {md(design.name)}")
opts = st.columns([1.3, 1, 0.9, 1.1, 1.1])  # the first toggle's label fits on one line
opts[0].toggle("Workloads & policies", key=ui.WORKLOADS, help="Deployment, Service, ServiceAccount per agent")
opts[1].toggle("Istio policies", key=ui.ISTIO, help="Implies workloads")
opts[2].toggle("Registry", key=ui.REGISTRY, help="The registry on PostgreSQL: 2 replicas, Service, NetworkPolicy")
opts[3].text_input(ui.NAMESPACE_LABEL, key=ui.NAMESPACE, placeholder="keep the design's")
opts[4].text_input(ui.LMOS_NAMESPACE_LABEL, value="default", key=ui.LMOS_NAMESPACE)
try:
    plan = ui.plan(design)
except LmosStudioError as exc:
    ui.show_failure(exc)
    st.stop()

st.success(md(plan.summary), icon=":material/verified:")
st.caption(" · ".join(f"**{n}** {md(kind)}" for kind, n in plan.kinds.items()) + f" · {len(plan.paths)} files")
if plan.notes:
    with st.expander(f"{len(plan.notes)} notes"):
        st.code("\n".join(plan.notes), language=None)
out = ui.bundle_actions(design, plan)
files_tab, valid_tab, policy_tab, diff_tab = st.tabs(["Files", "Validation", "Trust → policy", "Diff"])
with files_tab:
    ui.files(design, plan, out)
with valid_tab:
    st.dataframe(plan.validation, hide_index=True, width="stretch")
with policy_tab:
    for column, (status, count) in zip(st.columns(3), plan.policy_counts.items(), strict=True):
        column.metric(status, count)
    st.dataframe(plan.policy, hide_index=True, width="stretch")
with diff_tab:
    st.radio("Compare the open design with", [ui.LAST_EXPORT_LABEL, ui.UPLOAD_LABEL], key=ui.COMPARE, horizontal=True)
    if st.session_state.get(ui.COMPARE) == ui.UPLOAD_LABEL:
        st.file_uploader(
            "Design (YAML) or export zip",
            type=["yaml", "yml", "zip"],
            key=ui.COMPARE_UPLOAD,
            max_upload_size=widgets.upload_limit_mb(),
        )
    try:
        target = ui.compare_target()
    except LmosStudioError as exc:
        widgets.show_error(exc)
        target = None
    if target is None:
        st.info("Download the zip first, or upload a design or export zip to compare with.")
    else:
        old, warnings = target
        for warning in warnings:  # e.g. a generated file edited by hand: the diff compares designs, not files
            st.warning(md(warning), icon=":material/edit_note:")
        changes = ui.diff(old, design)
        st.markdown(" · ".join(f"**{n}** {md(kind)}" for kind, n in changes.summary.items()))
        st.dataframe(resources.table(changes.rows()), hide_index=True, width="stretch")
