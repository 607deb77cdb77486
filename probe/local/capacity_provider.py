"""The capacity provider's system log (Lambda Managed Instances): instance lifecycle records.

Lambda writes them as JSON to `/aws/lambda/capacity-provider/<name>`, stream
`<name>/managed-instances` (docs lambda-managed-instances-cwl-view-logs.md), each
`{timestamp, level, message, metadata{instanceId, availabilityZones[], instanceTypes[],
capacityProviderArn}}` (lambda-managed-instances-monitoring-log-format.md; its one example is
"Successfully launched c7g.xlarge instance i-0abc123def456789 in us-east-1a"). The events are
Launching, Launched, ..., Terminating, Terminated (…-system-log-events.md); the record names the
event only in its message, so each message here starts with the event's verb. The instances are
simulated hosts (hosts.py) with an instance type and AZ.
"""

import json

from probe.local.platform_lines import iso


class CapacityProviderLog:
    def __init__(self, shipper, name: str, region: str, account: str):
        self.shipper = shipper  # a LogShipper for the capacity provider's group
        self.name = name
        self.stream = f"{name}/managed-instances"
        self.arn = f"arn:aws:lambda:{region}:{account}:capacity-provider:{name}"

    def record(self, host, message: str, level: str = "INFO") -> str:
        return json.dumps(
            {
                "timestamp": iso(),
                "level": level,
                "message": message,
                "metadata": {
                    "instanceId": host.instance_id,
                    "availabilityZones": [host.spec.availability_zone],
                    "instanceTypes": [host.spec.instance_type],
                    "capacityProviderArn": self.arn,
                },
            },
            separators=(",", ":"),
        )

    def host_event(self, host, event: str) -> None:
        """`event` is "launch" or "terminate": write the pair of records Lambda writes."""
        kind, zone, iid = host.spec.instance_type, host.spec.availability_zone, host.instance_id
        if event == "launch":
            messages = (
                f"Launching {kind} instance {iid} in {zone}",
                f"Successfully launched {kind} instance {iid} in {zone}",
            )
        else:
            messages = (
                f"Terminating {kind} instance {iid} in {zone}",
                f"Successfully terminated {kind} instance {iid} in {zone}",
            )
        for message in messages:
            self.shipper.add(self.stream, self.record(host, message))
