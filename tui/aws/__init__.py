"""The outside world the monitor reads: AWS clients and their errors, targets (the local Lambda or a
function on AWS), capacity providers, and the log sources (polling, Live Tail, files).

Imports `tui.core` only; never the screen, the outputs or the commands.
"""
