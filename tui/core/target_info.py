"""What the monitor is looking at, as the header, the snapshot's `source` and a recording name it.

Pure: built from a `tui.aws.target` target or read back from a recording's header.
"""

from dataclasses import dataclass


@dataclass
class TargetInfo:
    """What the monitor is looking at, as the header and the snapshot's `source` name it."""

    kind: str  # "local", "aws" or "replay"
    name: str  # function name, function URL, or recording file
    region: str | None = None
    simulated_hosts: bool = False
    note: str = ""
    details: dict | None = None  # more for the snapshot's `source` (never credentials)
    profile: str | None = None  # the local Lambda's profile ("today", "blog", a file's name)

    @classmethod
    def from_target(cls, target) -> "TargetInfo":
        """From a `tui.aws.target.Target`."""
        return cls(
            kind=target.kind,
            name=target.function_name or target.function_url or "?",
            region=target.region,
            simulated_hosts=bool(target.simulated_hosts),
            details=target.describe(),
            profile=getattr(target, "local_profile", None),
            note=_code_note(getattr(target, "local_code", None)),
        )

    def label(self) -> str:
        if self.kind == "local":
            text = f"LOCAL {self.name}"
            if self.profile:
                text += f" · profile {self.profile}"
            if self.simulated_hosts:
                text += " (simulated hosts)"
        elif self.kind == "aws":
            text = f"AWS {self.name}" + (f" · {self.region}" if self.region else "")
        else:
            text = f"{self.kind.upper()} {self.name}"
        return text + (f" · {self.note}" if self.note else "")

    def as_dict(self) -> dict:
        return {
            **(self.details or {}),
            "kind": self.kind,
            "name": self.name,
            "region": self.region,
            "simulated_hosts": self.simulated_hosts,
        }


def _code_note(local_code: str | None) -> str:
    """'your handler app.handler from /x; 1 layer at /opt (…)' -> 'handler app.handler': the header
    says whose code runs; the snapshot's source keeps the whole line."""
    if not local_code or not local_code.startswith("your handler "):
        return ""
    return "handler " + local_code.removeprefix("your handler ").split(" ", 1)[0]
