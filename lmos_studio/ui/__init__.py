"""The only streamlit importer in the library: cached resources, session state keys, shared widgets."""
