"""One module per subcommand. Each has `register(subparsers)`, which adds its parser and sets
`handler` to a callable taking the parsed args (sync, or a coroutine function) and returning an
exit code. tui.cli discovers them through COMMANDS below."""

COMMANDS = ["watch", "run", "analyze", "local", "deploy", "attach", "replay", "compare", "experiment"]
