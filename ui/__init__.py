"""The thin layer between Streamlit and core: the cached connection and display helpers."""
