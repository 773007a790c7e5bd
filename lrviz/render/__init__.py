"""Renderers: Trace -> a rich Table, text formats, or a matplotlib Figure. They never print."""
