"""Renderers: a Trace or an inspector's report -> a rich Table or Tree, CSV/JSON/Markdown text,
or a matplotlib Figure. They never print."""
