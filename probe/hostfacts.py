"""What a host fact is and how it is read: the one definition the probe and the extension share.

Stdlib only, and Python 3.9 (the oldest Python runtime Lambda still runs): it ships inside the
probe's zip beside handler.py and inside the extension layer beside extension.py, and in both it
is imported as a top-level module (`import hostfacts`); in the checkout it is `probe.hostfacts`.

`host_facts()` reads the kernel: hostname, boot id and boot time, the CPU (model, MHz, bogomips,
vCPUs; on arm64 the implementer and part ids as well), memory, kernel release, machine, and the EC2
instance id and type where DMI has them (Managed Instances' hosts). It reads no environment
variable but the two roots below (Lambda puts credentials in the environment; nothing of it is
returned).

arm64 (Graviton) has no `model name` line in /proc/cpuinfo, only `CPU implementer` and `CPU part`:
the CPU is named from those (0x41 0xd0c is Arm's Neoverse N1, AWS's Graviton2), and the raw ids
are kept in `cpu_implementer` / `cpu_part` so a part not in the table is still told apart.
"""

import os
import platform
import re
import socket

# Where the kernel facts come from. The local Lambda points these at a simulated host's files, so
# the same code reads the real kernel on AWS and a simulated one locally. Read at each call: a
# module preloaded before the environment is set (a fork server) must still see its own host.
PROC_ROOT_ENV = "LAMBDASCOPE_PROC_ROOT"
DMI_ROOT_ENV = "LAMBDASCOPE_DMI_ROOT"
PROC_ROOT = "/proc"
# EC2 (Nitro) instances name themselves in DMI: the instance id and type (LMI hosts are EC2).
DMI_ROOT = "/sys/devices/virtual/dmi/id"
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")

# Arm's MIDR implementer and part numbers for the cores AWS builds Graviton from (Arm's Technical
# Reference Manuals, MIDR_EL1; the same table as util-linux's lscpu-arm.c). The Graviton
# generation is AWS's name for the chip: on EC2 and Lambda a Neoverse V2 is a Graviton4, though
# other vendors' chips (NVIDIA Grace) use the same core.
ARM_IMPLEMENTERS = {0x41: "ARM", 0x61: "Apple", 0xC0: "Ampere"}
ARM_PARTS = {
    (0x41, 0xD0C): ("Neoverse-N1", "AWS Graviton2"),
    (0x41, 0xD40): ("Neoverse-V1", "AWS Graviton3"),
    (0x41, 0xD4F): ("Neoverse-V2", "AWS Graviton4"),
    (0x41, 0xD08): ("Cortex-A72", "AWS Graviton"),  # the first Graviton (EC2 A1 instances)
    (0x41, 0xD49): ("Neoverse-N2", None),
}


def read(path, default=""):
    """A small kernel file's text, or `default` when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(1 << 20)  # bounded: a kernel file of facts is a few KB
    except OSError:
        return default


def number(text):
    try:
        return float(text)
    except ValueError:
        return 0.0


def _hex(text):
    try:
        return int(text, 16)
    except ValueError:
        return None


def arm_cpu_name(implementer, part):
    """`AWS Graviton2 (Neoverse-N1)` for a known part, else `ARM part 0xd0f`: never empty."""
    imp, prt = _hex(implementer or ""), _hex(part or "")
    known = ARM_PARTS.get((imp, prt))
    if known is not None:
        core, chip = known
        return f"{chip} ({core})" if chip else f"Arm {core}"
    vendor = ARM_IMPLEMENTERS.get(imp, f"implementer {implementer}") if imp is not None else "arm64"
    return f"{vendor} part {part}" if part else vendor


def cpuinfo(text):
    """The first CPU's model, MHz and bogomips, the number of processors listed, and on arm64
    the first CPU's implementer and part ids (as written, e.g. "0x41", "0xd0c"; None on x86)."""
    model, mhz, bogomips, vcpus = "", 0.0, 0.0, 0
    implementer = part = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "processor":
            vcpus += 1
        elif key == "model name" and not model:
            model = value
        elif key == "cpu mhz" and not mhz:
            mhz = number(value)
        elif key == "bogomips" and not bogomips:
            bogomips = number(value)
        elif key == "cpu implementer" and implementer is None:
            implementer = value.lower()
        elif key == "cpu part" and part is None:
            part = value.lower()
    if not model and (implementer or part):
        model = arm_cpu_name(implementer, part)
    return {
        "cpu_model": model,
        "cpu_mhz": mhz,
        "bogomips": bogomips,
        "vcpus": vcpus,
        "cpu_implementer": implementer,
        "cpu_part": part,
    }


def meminfo_total_kb(text):
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return 0


def booted_at_ms(stat_text):
    for line in stat_text.splitlines():
        if line.startswith("btime "):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return int(fields[1]) * 1000
    return 0


def instance(dmi_root):
    """The EC2 instance id and type where DMI has them (LMI hosts); None elsewhere."""
    instance_id = read(os.path.join(dmi_root, "board_asset_tag")).strip()
    if not _INSTANCE_ID.match(instance_id):
        return {"instance_id": None, "instance_type": None}
    kind = read(os.path.join(dmi_root, "product_name")).strip()
    return {"instance_id": instance_id, "instance_type": kind or None}


def roots():
    """(proc root, DMI root) for this process: the real ones, or a simulated host's."""
    return os.environ.get(PROC_ROOT_ENV) or PROC_ROOT, os.environ.get(DMI_ROOT_ENV) or DMI_ROOT


def host_facts(proc_root=None, dmi_root=None):
    """Every host fact, read now. Keys (a written contract: add, never rename): hostname,
    boot_id, booted_at (epoch ms), cpu_model, cpu_mhz, bogomips, vcpus, cpu_implementer,
    cpu_part, mem_total_kb, kernel, arch, instance_id, instance_type."""
    default_proc, default_dmi = roots()
    proc_root = proc_root or default_proc
    dmi_root = dmi_root or default_dmi
    cpu = cpuinfo(read(os.path.join(proc_root, "cpuinfo")))
    hostname = read(os.path.join(proc_root, "sys/kernel/hostname")).strip()
    facts = {
        "hostname": hostname or socket.gethostname(),
        "boot_id": read(os.path.join(proc_root, "sys/kernel/random/boot_id")).strip(),
        "booted_at": booted_at_ms(read(os.path.join(proc_root, "stat"))),
        "cpu_model": cpu["cpu_model"],
        "cpu_mhz": cpu["cpu_mhz"],
        "bogomips": cpu["bogomips"],
        "vcpus": cpu["vcpus"] or os.cpu_count() or 0,
        "cpu_implementer": cpu["cpu_implementer"],
        "cpu_part": cpu["cpu_part"],
        "mem_total_kb": meminfo_total_kb(read(os.path.join(proc_root, "meminfo"))),
        "kernel": read(os.path.join(proc_root, "sys/kernel/osrelease")).strip() or platform.release(),
        # /proc/sys/kernel/arch where the kernel has it (a simulated host has one), else ours
        "arch": read(os.path.join(proc_root, "sys/kernel/arch")).strip() or platform.machine(),
    }
    facts.update(instance(dmi_root))
    return facts
