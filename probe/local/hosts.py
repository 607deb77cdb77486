"""Simulated hosts: what the probe sees as its machine, and where environments are placed.

Each host gets a folder of fake kernel files (cpuinfo, meminfo, stat, hostname, boot_id,
osrelease) shaped like the real /proc; an environment on that host gets the folder as
LAMBDASCOPE_PROC_ROOT, so the probe reads its host identity through its ordinary code path.
Hosts are simulated; everything built on them must say so.
"""

import os
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class HostSpec:
    name: str
    cpu_model: str = "Intel(R) Xeon(R) Processor @ 2.50GHz"
    mhz: float = 2500.0
    bogomips: float = 5000.0
    slots: int = 1000  # environments it can hold at once
    vcpus: int = 2
    mem_total_kb: int = 3_980_000
    kernel: str = "5.10.240-238.959.amzn2.x86_64"
    lifetime_s: float | None = None  # retire this long after its first environment; None = never
    # retire after serving this many invocations (0 = never): a clock in requests, not seconds,
    # so a loaded machine (slow cold starts) tells the same story as an idle one
    lifetime_requests: int = 0
    replace: bool = False  # when it retires, a fresh host with the same spec joins the pool
    # An EC2 instance of an LMI capacity provider (mode "lmi"): its type and Availability Zone.
    # It gets an instance id (i-...) when it launches; the probe reads id and type from DMI.
    instance_type: str = ""
    availability_zone: str = ""
    # arm64 hosts (Graviton) write /proc/cpuinfo as arm64 kernels do: no `model name`, only the
    # implementer and part ids (cpu_model is then unused; the reader names the CPU from the ids).
    arch: str = "x86_64"  # x86_64 | arm64
    cpu_implementer: str = "0x41"
    cpu_part: str = "0xd0c"  # Neoverse N1, Graviton2: what Lambda's arm64 functions run on


@dataclass(eq=False)
class Host:
    spec: HostSpec
    name: str
    proc_root: str | None  # None: the real /proc of this machine
    boot_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    envs: set = field(default_factory=set)
    first_used_at: float | None = None  # monotonic
    retired: bool = False
    generation: int = 1
    served: int = 0  # invocations its environments completed
    instance_id: str = ""  # EC2 instance id, for hosts with an instance_type
    launched: bool = False  # the capacity provider logged its launch

    @property
    def free(self) -> int:
        return self.spec.slots - len(self.envs)

    def due_to_retire(self, now: float) -> bool:
        if self.retired:
            return False
        if self.spec.lifetime_requests and self.served >= self.spec.lifetime_requests:
            return True
        return (
            self.spec.lifetime_s is not None
            and self.first_used_at is not None
            and now - self.first_used_at >= self.spec.lifetime_s
        )


def _cpuinfo(spec: HostSpec) -> str:
    if spec.arch == "arm64":
        return _cpuinfo_arm64(spec)
    blocks = []
    for cpu in range(spec.vcpus):
        blocks.append(
            f"processor\t: {cpu}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 63\n"
            f"model name\t: {spec.cpu_model}\nstepping\t: 2\nmicrocode\t: 0x49\n"
            f"cpu MHz\t\t: {spec.mhz:.3f}\ncache size\t: 25600 KB\nphysical id\t: 0\n"
            f"siblings\t: {spec.vcpus}\ncore id\t\t: {cpu // 2}\n"
            f"cpu cores\t: {max(1, spec.vcpus // 2)}\napicid\t\t: {cpu}\nfpu\t\t: yes\n"
            f"flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep\n"
            f"bogomips\t: {spec.bogomips:.2f}\nclflush size\t: 64\ncache_alignment\t: 64\n"
            f"address sizes\t: 46 bits physical, 48 bits virtual\npower management:\n"
        )
    return "\n".join(blocks) + "\n"


def _cpuinfo_arm64(spec: HostSpec) -> str:
    # The shape of a Graviton2's /proc/cpuinfo (tests/fixtures/cpuinfo cites real dumps).
    block = (
        "processor\t: {cpu}\nBogoMIPS\t: {bogomips:.2f}\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2"
        " crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: {imp}\n"
        "CPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: {part}\nCPU revision\t: 1\n"
    )
    blocks = [
        block.format(cpu=c, bogomips=spec.bogomips, imp=spec.cpu_implementer, part=spec.cpu_part)
        for c in range(spec.vcpus)
    ]
    return "\n".join(blocks) + "\n"


def _write(root: str, rel: str, text: str) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def materialize(spec: HostSpec, base_dir: str, generation: int = 1) -> Host:
    """Create a host and write its fake kernel files under base_dir."""
    name = spec.name if generation == 1 else f"{spec.name}-r{generation}"
    root = os.path.join(base_dir, name)
    host = Host(spec=spec, name=name, proc_root=root, generation=generation)
    if spec.instance_type:
        # 17 hex digits, as EC2 ids have had since 2016
        host.instance_id = "i-0" + uuid.uuid4().hex[:16]
        # Nitro instances expose their id and type through DMI (board_asset_tag, product_name)
        _write(root, "dmi/board_asset_tag", host.instance_id + "\n")
        _write(root, "dmi/product_name", spec.instance_type + "\n")
    # A host booted a while ago; the exact uptime is arbitrary but fixed per host.
    btime = int(time.time()) - 3600 * (1 + sum(map(ord, name)) % 48)
    _write(root, "cpuinfo", _cpuinfo(spec))
    _write(
        root,
        "meminfo",
        f"MemTotal:       {spec.mem_total_kb} kB\n"
        f"MemFree:        {spec.mem_total_kb // 2} kB\n"
        f"MemAvailable:   {spec.mem_total_kb * 3 // 4} kB\n",
    )
    _write(root, "stat", f"cpu  0 0 0 0 0 0 0 0 0 0\nbtime {btime}\nprocesses 1\n")
    _write(root, "sys/kernel/hostname", name + "\n")
    _write(root, "sys/kernel/random/boot_id", host.boot_id + "\n")
    _write(root, "sys/kernel/osrelease", spec.kernel + "\n")
    _write(root, "sys/kernel/arch", ("aarch64" if spec.arch == "arm64" else "x86_64") + "\n")
    return host


def this_machine() -> Host:
    """The one host when a profile simulates none: the real machine, read from /proc."""
    spec = HostSpec(name=os.uname().nodename, slots=1_000_000)
    return Host(spec=spec, name=spec.name, proc_root=None)


def place(hosts: list[Host], strategy: str) -> Host | None:
    """Pick a host with a free slot. binpack: the fullest one that fits (first in profile order on
    a tie), which keeps a small fleet on few hosts; spread: the emptiest one."""
    open_hosts = [h for h in hosts if not h.retired and h.free > 0]
    if not open_hosts:
        return None
    if strategy == "spread":
        return max(open_hosts, key=lambda h: h.free)
    return min(open_hosts, key=lambda h: h.free)
