"""lambdascope's monitor: log sources, parser, fleet model, exports, the Textual app and the CLI."""
