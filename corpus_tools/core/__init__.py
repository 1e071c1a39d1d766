"""The lowest layer: the document and its schema, errors, the language registry, storage and release layout.

Nothing here imports another corpus_tools package (the layer contract in pyproject.toml, checked by
tests/test_layers.py)."""
