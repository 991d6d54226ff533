"""The agent console: the web page where support agents take over conversations handed to a
person (docs/product.md §4, "Human handoff"). Start it with ``python -m console.server``."""
