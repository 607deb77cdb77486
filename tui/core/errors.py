"""What a user sees when something fails: one line that names the fix, and never a credential.

`UserError` is the one error type a user sees. `mask(text)` is the one place secrets are taken
out of text, and `one_line(exc)` the one formatter of an exception for a screen, a log line or
stderr: every error path (the CLI, the app's header and status line, the log sources, the AWS
error explainer, the load process's reports, recordings and exports) goes through it.

What is masked:
- every credential value this process learned: the ones the AWS session resolved, from any
  provider (`remember()` is called with them by `tui.aws.clients`), and the static ones in the AWS
  environment variables and the shared credentials/config files, read here without resolving
  anything (no SSO call, no credential process);
- anything shaped like one: access key ids (AKIA/ASIA…), the value after a key id, signature
  parts (`Signature=`, `Credential=`, `X-Amz-Security-Token`), secret/token fields in JSON or
  INI text, and long base64 runs (session tokens).

Pure: `re` and `os` only (the export, in the pure core, passes its files through `mask`).
"""

import configparser
import os
import re

from tui.core.printable import printable


class UserError(Exception):
    """Bad input or an unusable environment. The message is shown as is, on one line.

    Say what is wrong and how to fix it: "--requests must be at least 1 (got 0)".
    Never put a credential in the message (it is masked anyway).
    """

    exit_code = 2


MASK = "***"
_MIN_SECRET = 8  # shorter values ("testing", the local moto keys) would mask ordinary words
_known: set[str] = set()

_ENV_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_FILE_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token")

# A value ends at whitespace, a quote, a backslash or a separator: masking inside JSON keeps it JSON.
_VALUE = r"[^\s,;&\"'\\<>]+"
_SHAPES = [
    # Signature parts in a URL, an Authorization header or an error that quotes one.
    re.compile(
        r"(?i)((?:X-Amz-Security-Token|X-Amz-Credential|X-Amz-Signature|Credential|Signature|"
        r"SessionToken|Session-Token|Security-Token)\"?\s*[=:]\s*\"?)" + _VALUE
    ),
    # Fields of credential documents (JSON from a credential process or cache, INI, repr of a dict).
    re.compile(
        r"(?i)((?:aws_secret_access_key|aws_session_token|aws_security_token|aws_access_key_id|"
        r"SecretAccessKey|secret_key|SecretKey|AccessKeyId|access_key|accessToken|refreshToken|"
        r"clientSecret|\"Token\")[\"']?\s*[=:]\s*[\"']?)" + _VALUE
    ),
    # The secret that follows a key id ("AKIA… wJalr…", "key=AKIA…:secret").
    re.compile(r"(\b(?:AKIA|ASIA)[A-Z0-9]{12,}[\s:/=,;\"']{1,4})[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    # Access key ids (long-term AKIA, temporary ASIA) and other IAM unique ids.
    re.compile(r"()\b(?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{12,}\b"),
    # A session token, or any long base64 run: nothing a user needs to read is shaped like that.
    re.compile(r"()(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{100,}={0,2}"),
    # A 40-character secret access key standing alone (mixed case and digits, so not hex or a word).
    re.compile(
        r"()(?<![A-Za-z0-9/+=_-])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[0-9])"
        r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=_-])"
    ),
]
_files_cache: dict[str, tuple[float, frozenset]] = {}


def remember(*values) -> None:
    """Mask these values from now on (credentials the AWS session resolved). Never logged."""
    for value in values:
        if isinstance(value, str) and len(value) >= _MIN_SECRET:
            _known.add(value)


def known_secrets() -> set[str]:
    """Every literal value masked now: remembered, in the environment, in the AWS files."""
    out = set(_known)
    for var in _ENV_VARS:
        value = os.environ.get(var)
        if value and len(value) >= _MIN_SECRET:
            out.add(value)
    home = os.path.expanduser("~")
    for path in (
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials"),
        os.environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"),
    ):
        out |= _file_secrets(path)
    return out


def _file_secrets(path: str) -> frozenset:
    """The credential values written in an AWS INI file (cached while the file is unchanged)."""
    try:
        mtime = os.stat(path).st_mtime
    except (OSError, ValueError):
        return frozenset()
    cached = _files_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    found = set()
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path, encoding="utf-8")
        for section in parser.sections():
            for key in _FILE_KEYS:
                value = (parser.get(section, key, fallback="") or "").strip()
                if len(value) >= _MIN_SECRET:
                    found.add(value)
    except (configparser.Error, OSError, UnicodeDecodeError):
        pass  # a file botocore cannot read either holds nothing it would use
    result = frozenset(found)
    _files_cache[path] = (mtime, result)
    return result


def mask(text) -> str:
    """`text` with every credential and anything shaped like one replaced by ***."""
    text = "" if text is None else str(text)
    # Longest first, so a value that contains another is masked whole.
    for value in sorted(known_secrets(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    for shape in _SHAPES:
        text = shape.sub(lambda m: m.group(1) + MASK, text)
    return text


def one_line(error, limit: int = 300) -> str:
    """An exception (or text) as one masked line of at most `limit` characters.

    Our own errors (UserError, ValueError from plans) read well bare; others carry their type,
    since "ConnectionResetError: [Errno 104]" says more than "[Errno 104]".
    """
    if isinstance(error, BaseException):
        text = str(error)
        if not isinstance(error, (UserError, ValueError)) or not text.strip():
            text = f"{type(error).__name__}: {text}" if text.strip() else type(error).__name__
    else:
        text = "" if error is None else str(error)
    text = printable(mask(" ".join(text.split())))
    return text if len(text) <= limit else text[: limit - 1] + "…"
