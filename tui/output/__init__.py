"""What lambdascope writes: export folders, figures, recordings, atomic masked files.

Imports `tui.core` only; never the screen, AWS or the commands.
"""
