"""probe/hostfacts.py: the host facts the probe and the extension share, read from real kernel text.

The arm64 fixtures are real /proc/cpuinfo dumps (tests/fixtures/cpuinfo/README.md says where each
was published): an arm64 kernel writes no `model name`, so the CPU is named from its ids.
"""

from pathlib import Path

import pytest

from probe import hostfacts
from probe.local.hosts import HostSpec, materialize

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cpuinfo"


@pytest.mark.parametrize(
    "fixture, model, implementer, part, bogomips, vcpus",
    [
        ("graviton2.txt", "AWS Graviton2 (Neoverse-N1)", "0x41", "0xd0c", 243.75, 3),
        ("graviton3.txt", "AWS Graviton3 (Neoverse-V1)", "0x41", "0xd40", 2100.0, 2),
        ("neoverse_v2.txt", "AWS Graviton4 (Neoverse-V2)", "0x41", "0xd4f", 2000.0, 1),
    ],
)
def test_an_arm64_cpu_is_named_from_its_implementer_and_part(fixture, model, implementer, part, bogomips, vcpus):
    cpu = hostfacts.cpuinfo((FIXTURES / fixture).read_text())
    assert cpu["cpu_model"] == model
    assert (cpu["cpu_implementer"], cpu["cpu_part"]) == (implementer, part)  # the raw ids kept
    assert cpu["bogomips"] == bogomips and cpu["vcpus"] == vcpus and cpu["cpu_mhz"] == 0.0


def test_an_x86_cpu_keeps_its_model_name_and_has_no_arm_ids():
    text = (
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor @ 2.50GHz\n"
        "cpu MHz\t\t: 2500.004\nbogomips\t: 5000.00\n"
    )
    cpu = hostfacts.cpuinfo(text)
    assert cpu["cpu_model"] == "Intel(R) Xeon(R) Processor @ 2.50GHz"
    assert cpu["cpu_implementer"] is None and cpu["cpu_part"] is None and cpu["cpu_mhz"] == 2500.004


@pytest.mark.parametrize(
    "implementer, part, name",
    [
        ("0x41", "0xd49", "Arm Neoverse-N2"),
        ("0x41", "0xfff", "ARM part 0xfff"),  # a part not in the table still names itself
        ("0xc0", "0xac3", "Ampere part 0xac3"),
        ("0x99", "0x001", "implementer 0x99 part 0x001"),
        ("zz", "0xd0c", "arm64 part 0xd0c"),  # an unreadable implementer is not an error
        (None, None, "arm64"),
    ],
)
def test_an_unknown_arm_part_is_named_by_its_ids_never_blank(implementer, part, name):
    assert hostfacts.arm_cpu_name(implementer, part) == name


def test_host_facts_read_a_simulated_graviton_host_as_the_probe_sees_it(tmp_path):
    spec = HostSpec(name="169.254.96.1", arch="arm64", bogomips=243.75, mhz=0.0, vcpus=2)
    host = materialize(spec, str(tmp_path))
    facts = hostfacts.host_facts(host.proc_root, str(tmp_path / "no-dmi"))
    assert facts["cpu_model"] == "AWS Graviton2 (Neoverse-N1)"
    assert (facts["cpu_implementer"], facts["cpu_part"], facts["arch"]) == ("0x41", "0xd0c", "aarch64")
    assert facts["hostname"] == "169.254.96.1" and facts["boot_id"] == host.boot_id
    assert facts["vcpus"] == 2 and facts["instance_id"] is None
    # The simulated file has the shape of the real dump: both read alike.
    real = hostfacts.cpuinfo((FIXTURES / "graviton2.txt").read_text())
    simulated = hostfacts.cpuinfo((Path(host.proc_root) / "cpuinfo").read_text())
    assert {k: real[k] for k in ("cpu_model", "cpu_implementer", "cpu_part", "bogomips")} == {
        k: simulated[k] for k in ("cpu_model", "cpu_implementer", "cpu_part", "bogomips")
    }


def test_host_facts_follow_the_roots_in_the_environment_at_each_call(tmp_path, monkeypatch):
    a = materialize(HostSpec(name="host-a"), str(tmp_path))
    b = materialize(HostSpec(name="host-b", arch="arm64"), str(tmp_path))
    monkeypatch.setenv(hostfacts.PROC_ROOT_ENV, a.proc_root)
    assert hostfacts.host_facts()["hostname"] == "host-a"
    monkeypatch.setenv(hostfacts.PROC_ROOT_ENV, b.proc_root)
    assert hostfacts.host_facts()["cpu_part"] == "0xd0c"


def test_missing_or_odd_kernel_files_give_empty_facts_not_errors(tmp_path):
    (tmp_path / "stat").write_text("btime notanumber\n")
    (tmp_path / "meminfo").write_text("MemTotal: lots kB\n")
    facts = hostfacts.host_facts(str(tmp_path), str(tmp_path))
    assert facts["booted_at"] == 0 and facts["mem_total_kb"] == 0 and facts["cpu_model"] == ""
    assert facts["hostname"]  # falls back to the socket's name
