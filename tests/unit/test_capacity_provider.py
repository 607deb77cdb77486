"""Finding a Managed Instances function's capacity provider and its system log group."""

import pytest

from tui.aws import capacity_provider as cp
from tui.core.errors import UserError

ARN = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:my-capacity-provider"


def test_a_name_means_its_default_group_and_a_path_is_the_group():
    assert cp.log_group_for("my-capacity-provider") == "/aws/lambda/capacity-provider/my-capacity-provider"
    assert cp.log_group_for("/custom/cp-logs") == "/custom/cp-logs"


@pytest.mark.parametrize("bad", ["", "a b", "x" * 141, "/bad group", "arn:aws:lambda:x"])
def test_anything_else_is_one_line_naming_the_fix(bad):
    with pytest.raises(UserError) as exc:
        cp.log_group_for(bad)
    assert "--capacity-provider" in str(exc.value) and "\n" not in str(exc.value)


def test_the_functions_configuration_names_the_provider():
    # GetFunctionConfiguration's shape (docs API_CapacityProviderConfig).
    config = {
        "FunctionName": "fn",
        "CapacityProviderConfig": {
            "LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": ARN,
                "PerExecutionEnvironmentMaxConcurrency": 16,
            }
        },
    }
    assert cp.group_from_config(config) == "/aws/lambda/capacity-provider/my-capacity-provider"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"CapacityProviderConfig": None},
        {"CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": 5}}},
        {"CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": "x"}}},
        None,
    ],
)
def test_a_function_on_no_provider_has_no_system_log(config):
    assert cp.group_from_config(config) is None


def test_the_raw_answer_is_kept_before_botocore_drops_fields():
    class Events:
        def register(self, name, handler):
            self.name, self.handler = name, handler

    class Client:
        class meta:
            events = Events()

    into: dict = {}
    cp.keep_raw_config(Client, into)
    assert Client.meta.events.name == "before-parse.lambda.GetFunctionConfiguration"
    Client.meta.events.handler(response_dict={"body": b'{"CapacityProviderConfig": {"x": 1}}'})
    Client.meta.events.handler(response_dict={"body": b"<html>not json</html>"})
    assert into == {"CapacityProviderConfig": {"x": 1}}
