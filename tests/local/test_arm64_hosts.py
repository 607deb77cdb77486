"""The local Lambda's arm64 profile: simulated Graviton2 hosts whose /proc/cpuinfo has no model
name, read by the probe through its ordinary path (real awslambdaric environments and the fork
runtime alike), so the CPU column is filled for an arm64 function as on AWS."""

import pytest

from probe.local import LocalLambda
from tests.local.conftest import assert_nothing_left


@pytest.mark.parametrize("runtime", ["awslambdaric", "fork"])
async def test_an_arm64_host_names_its_cpu_from_the_part_id(http, runtime):
    async with LocalLambda("arm64", runtime=runtime) as ll:
        async with http.get(ll.function_url) as resp:
            assert resp.status == 200
            rec = await resp.json()
        assert rec["hostname"] == ll.environments[0]["host"]
        assert rec["cpu_model"] == "AWS Graviton2 (Neoverse-N1)"
        assert (rec["cpu_implementer"], rec["cpu_part"], rec["arch"]) == ("0x41", "0xd0c", "aarch64")
        assert rec["bogomips"] == 243.75 and rec["cpu_mhz"] == 0.0
    assert_nothing_left(ll)
