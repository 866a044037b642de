"""Streamlit apps over the public Python API (`plantlake.Lake`); see apps/README.md."""
