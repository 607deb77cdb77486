"""lambdascope's extension layer: an external Lambda extension that prints one host-facts line per
execution environment, for any function on a Python runtime (`extension.py`), and the layer zip
that carries it (`layer.py`)."""
