"""The smallest pages Streamlit can serve, for ``bench_page_draw.py --floor``: what a new tab costs before any content.

``?kind=text``: one line of Markdown. ``?kind=chart``: the same line and one 3-point Plotly line chart, so the
difference is what the first chart of any page costs (Streamlit's plotly.js chunk loaded and evaluated, one draw).
``?kind=charts``: six such charts (each chart after the first).
"""
import plotly.graph_objects as go
import streamlit as st

kind = st.query_params.get("kind", "text")
st.markdown("A page with nothing on it but this line.")
for i in range({"text": 0, "chart": 1, "charts": 6}.get(kind, 0)):
    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])), key=f"chart{i}")
