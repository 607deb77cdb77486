"""What lambdascope points at: the embedded local Lambda, or a function on AWS.

A `Target` is everything the rest needs, whichever it is: where to send load, where to read
logs, with which credentials, and what to call it on screen. Changing the target is all it takes
to go from local to AWS.
"""

from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tui.errors import UserError


@dataclass
class Target:
    label: str  # what the header says: "LOCAL (simulated hosts)" or "my-fn (eu-west-1)"
    kind: str  # "local" | "aws"
    function_name: str
    region: str
    log_group: str
    function_url: str | None = None
    invoke_endpoint: str | None = None  # None on AWS: the SDK's default endpoint
    logs_endpoint: str | None = None
    profile: str | None = None
    # Static keys for the local Lambda's moto only. On AWS this stays None and the standard
    # credential chain is used, so no key is ever held here (or printed from here).
    local_credentials: dict | None = None
    auth: str = "NONE"  # function URL AuthType: "NONE" or "AWS_IAM" (SigV4-signed)
    simulated_hosts: bool = False
    extra: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """For snapshots: where the data came from. Never credentials."""
        return {
            "kind": self.kind,
            "label": self.label,
            "function_name": self.function_name,
            "region": self.region,
            "log_group": self.log_group,
            "function_url": self.function_url,
            "simulated_hosts": self.simulated_hosts,
        }

    def load_spec(self, use_invoke: bool = False) -> dict:
        """A picklable description of where load goes (loadgen.targets.target_from_spec)."""
        if use_invoke or not self.function_url:
            return {"kind": "invoke", "endpoint_url": self.invoke_endpoint, "function_name": self.function_name,
                    "region": self.region, "profile": self.profile}
        return {"kind": "url", "url": self.function_url, "auth": self.auth.lower(),
                "region": self.region, "profile": self.profile}


@asynccontextmanager
async def local_target(profile_file: str | None = None, concurrency_limit: int | None = None):
    """Start the embedded local Lambda for the duration of the block; stop all of it after."""
    from probe.local import LocalLambda
    from probe.local.profile import load_profile

    try:
        profile = load_profile(profile_file) if profile_file else None
    except (OSError, ValueError) as exc:
        raise UserError(str(exc).splitlines()[0] if str(exc) else f"cannot read {profile_file}") from None
    kwargs = {"profile": profile}
    if concurrency_limit is not None:
        kwargs["concurrency_limit"] = concurrency_limit
    async with LocalLambda(**kwargs) as ll:
        key, secret = ll.credentials
        yield Target(
            label="LOCAL (simulated hosts)",
            kind="local",
            function_name=ll.function_name,
            region=ll.region,
            log_group=ll.log_group,
            function_url=ll.function_url,
            invoke_endpoint=ll.invoke_endpoint,
            logs_endpoint=ll.logs_endpoint,
            local_credentials={"aws_access_key_id": key, "aws_secret_access_key": secret},
            simulated_hosts=True,
            extra={"local": ll},
        )
