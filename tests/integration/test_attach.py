"""attach/detach against moto's server (out of process, 127.0.0.1): the layer is published once
(found again by its content hash), added beside the function's other layers, removed exactly,
both idempotent; a revision conflict is refused (through a proxy that checks RevisionId as
Lambda does, since moto does not); other runtimes and qualified names are refused with nothing
changed; an AccessDenied names the actions the command needs.
"""

import io
import json
import zipfile

import boto3
import pytest

from probe.extension.layer import content_hash, layer_zip
from tests.integration.aws_fixtures import REGION, create_function
from tests.integration.revision_proxy import RevisionProxy
from tui.aws.layer import ATTACH_ACTIONS, LAYER_NAME, TAG_KEY, description
from tui.cli import main


def _lam(endpoint):
    return boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)


def _other_layer(lam, name="users-own-layer"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("python/thing.py", "X = 1\n")
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": buf.getvalue()})["LayerVersionArn"]


def _function_with_layer(endpoint, name="fn"):
    """A Python function that already has a layer of its user's: attach must keep it."""
    create_function(endpoint, name)
    lam = _lam(endpoint)
    other = _other_layer(lam)
    lam.update_function_configuration(FunctionName=name, Layers=[other])
    return lam, other


def _layers(lam, name="fn"):
    return [layer["Arn"] for layer in lam.get_function_configuration(FunctionName=name).get("Layers", [])]


def _tags(lam, name="fn"):
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    return lam.list_tags(Resource=arn).get("Tags", {})


def _our_versions(lam):
    try:
        return lam.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    except lam.exceptions.ResourceNotFoundException:
        return []


def _cli(capsys, *argv, endpoint):
    code = main([*argv, "--region", REGION, "--endpoint-url", endpoint])
    out, err = capsys.readouterr()
    return code, out, err


def test_attach_keeps_the_functions_layers_tags_it_and_is_idempotent(moto_endpoint, fake_aws_env, capsys):
    lam, other = _function_with_layer(moto_endpoint)

    code, out, err = _cli(capsys, "attach", "--function", "fn", endpoint=moto_endpoint)
    assert code == 0, err
    summary = json.loads(out)
    ours = summary["layer"]
    assert summary["layer_published"] and summary["changed"]
    assert _layers(lam) == [other, ours]  # the user's layer kept, in its place
    assert _tags(lam)[TAG_KEY] == ours
    (version,) = _our_versions(lam)
    assert version["LayerVersionArn"] == ours
    assert version["Description"] == description(content_hash(layer_zip()))
    assert "Only environments started after this change report their host" in err
    assert "$LATEST" in err and fake_aws_env not in out + err

    code, out, err = _cli(capsys, "attach", "--function", "fn", endpoint=moto_endpoint)
    assert code == 0, err
    again = json.loads(out)
    assert again["layer"] == ours and not again["layer_published"] and not again["changed"]
    assert "nothing changed" in err
    assert _layers(lam) == [other, ours] and len(_our_versions(lam)) == 1


def test_a_second_function_reuses_the_published_version(moto_endpoint, fake_aws_env, capsys):
    create_function(moto_endpoint, "first")
    create_function(moto_endpoint, "second")
    lam = _lam(moto_endpoint)
    assert _cli(capsys, "attach", "--function", "first", endpoint=moto_endpoint)[0] == 0
    code, out, _ = _cli(capsys, "attach", "--function", "second", endpoint=moto_endpoint)
    assert code == 0 and not json.loads(out)["layer_published"]
    assert len(_our_versions(lam)) == 1
    assert _layers(lam, "first") == _layers(lam, "second")


def test_an_older_version_of_the_layer_is_replaced_where_it_stands(moto_endpoint, fake_aws_env, capsys):
    lam, other = _function_with_layer(moto_endpoint)
    old = lam.publish_layer_version(
        LayerName=LAYER_NAME, Description=description("0" * 16), Content={"ZipFile": layer_zip()}
    )["LayerVersionArn"]
    lam.update_function_configuration(FunctionName="fn", Layers=[old, other])
    lam.tag_resource(Resource=lam.get_function(FunctionName="fn")["Configuration"]["FunctionArn"], Tags={TAG_KEY: old})

    code, out, err = _cli(capsys, "attach", "--function", "fn", endpoint=moto_endpoint)
    assert code == 0, err
    new = json.loads(out)["layer"]
    assert new != old and _layers(lam) == [new, other]
    assert _tags(lam)[TAG_KEY] == new


def test_detach_removes_exactly_its_layer_and_is_idempotent(moto_endpoint, fake_aws_env, capsys):
    lam, other = _function_with_layer(moto_endpoint)
    assert _cli(capsys, "attach", "--function", "fn", endpoint=moto_endpoint)[0] == 0

    code, out, err = _cli(capsys, "detach", "--function", "fn", endpoint=moto_endpoint)
    assert code == 0, err
    summary = json.loads(out)
    assert len(summary["removed"]) == 1 and summary["kept"] == [other]
    assert _layers(lam) == [other] and TAG_KEY not in _tags(lam)
    assert len(_our_versions(lam)) == 1  # the layer version stays unless asked

    code, out, err = _cli(capsys, "detach", "--function", "fn", "--delete-layer", endpoint=moto_endpoint)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["removed"] == [] and len(summary["deleted_layer_versions"]) == 1
    assert "nothing changed" in err
    assert _layers(lam) == [other] and _our_versions(lam) == []


def test_detach_leaves_an_untagged_copy_of_the_layer_alone(moto_endpoint, fake_aws_env, capsys):
    lam, other = _function_with_layer(moto_endpoint)
    theirs = lam.publish_layer_version(LayerName=LAYER_NAME, Content={"ZipFile": layer_zip()})["LayerVersionArn"]
    lam.update_function_configuration(FunctionName="fn", Layers=[other, theirs])
    code, out, err = _cli(capsys, "detach", "--function", "fn", endpoint=moto_endpoint)
    assert code == 0 and json.loads(out)["removed"] == []
    assert _layers(lam) == [other, theirs]
    assert f"left {theirs} alone" in err


def _one_line_error(code, out, err):
    assert code == 2 and out == ""
    assert err.startswith("lambdascope: error: ") and err.count("\n") == 1, err
    return err


def test_another_runtime_is_refused_with_nothing_changed(moto_endpoint, fake_aws_env, capsys):
    create_function(moto_endpoint)
    lam = _lam(moto_endpoint)
    lam.update_function_configuration(FunctionName="fn", Runtime="nodejs22.x")
    err = _one_line_error(*_cli(capsys, "attach", "--function", "fn", endpoint=moto_endpoint))
    assert "nodejs22.x" in err and "Python runtimes" in err and "nothing changed" in err
    assert _layers(lam) == [] and TAG_KEY not in _tags(lam)
    assert _our_versions(lam) == []  # nothing published either


@pytest.mark.parametrize("name", ["fn:live", "fn:3"])
def test_a_version_or_alias_is_refused(name, moto_endpoint, fake_aws_env, capsys):
    create_function(moto_endpoint)
    err = _one_line_error(*_cli(capsys, "attach", "--function", name, endpoint=moto_endpoint))
    assert "$LATEST only" in err


def test_an_unknown_function_is_one_line(moto_endpoint, fake_aws_env, capsys):
    err = _one_line_error(*_cli(capsys, "detach", "--function", "nosuch", endpoint=moto_endpoint))
    assert "no function 'nosuch'" in err


def test_a_concurrent_change_is_refused_not_overwritten(moto_server, moto_endpoint, fake_aws_env, capsys):
    lam, other = _function_with_layer(moto_endpoint)
    with RevisionProxy(moto_endpoint) as proxy:
        proxy.interfere_with({"Description": "changed by someone else"})
        err = _one_line_error(*_cli(capsys, "attach", "--function", "fn", endpoint=proxy.url))
        assert proxy.refused == 1
        assert "changed while lambdascope was changing its layers" in err and "run the command again" in err
        # The other writer's change stands and ours did not go over it.
        config = lam.get_function_configuration(FunctionName="fn")
        assert config["Description"] == "changed by someone else"
        assert _layers(lam) == [other]

        # Run again, as the line says: this time the revision read is current, and it goes through
        # (with --publish, whose PublishVersion carries the revision too).
        code, out, err = _cli(capsys, "attach", "--function", "fn", "--publish", endpoint=proxy.url)
        assert code == 0, err
        summary = json.loads(out)
        assert summary["version"] and _layers(lam) == [other, summary["layer"]]
        assert proxy.refused == 1


def test_access_denied_names_the_actions_attach_needs(moto_endpoint, fake_aws_env, capsys):
    create_function(moto_endpoint)
    with RevisionProxy(moto_endpoint) as proxy:
        proxy.deny("/layers/", "lambda:ListLayerVersions")
        err = _one_line_error(*_cli(capsys, "attach", "--function", "fn", endpoint=proxy.url))
    assert "missing AWS permission lambda:ListLayerVersions" in err
    assert all(action in err for action in ATTACH_ACTIONS)
    assert fake_aws_env not in err
