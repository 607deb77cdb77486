"""The one error type a user sees: one line that names the fix, then a non-zero exit."""


class UserError(Exception):
    """Bad input or an unusable environment. The message is shown as is, on one line.

    Say what is wrong and how to fix it: "--requests must be at least 1 (got 0)".
    Never put a credential in the message.
    """

    exit_code = 2
