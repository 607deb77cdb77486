"""The pure model: log lines become events, events become the fleet (containers, hosts, waves, the
ledger of invocations), the fleet tells its findings, and the snapshot document is written from it.

No IO here at all: no network, no files, no Textual, no event loop (import-linter checks it; see
pyproject.toml). Everything above (`tui.aws`, `tui.output`, `tui.screen`) feeds it or reads it.
"""
