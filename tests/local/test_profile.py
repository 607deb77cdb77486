"""Profile files: the shipped ones load, and a bad file is one ValueError line naming the fix."""

import pytest

from probe.local.profile import DEFAULT_PROFILE, load_profile, parse_profile, shipped_profiles


def test_shipped_profiles_load():
    assert set(shipped_profiles()) >= {"today", "blog", "lmi", "snapstart", "scale"}
    assert DEFAULT_PROFILE == "today"
    today = load_profile()
    assert today.name == "today" and today.burst >= 10 and today.concurrency_limit >= 10
    blog = load_profile("blog")
    assert blog.batch and blog.burst == 4 and blog.steps[:2] == [10, 20]
    models = {h.cpu_model for h in blog.hosts}
    assert models == {"Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz", "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz"}


def test_the_scale_profile_is_lambdas_scaling_rule_with_a_hold_on_the_fork_runtime():
    scale = load_profile("scale")
    # 1,000 at once, refilled by 1,000 per 10 s; the account's default 1,000 concurrent
    assert scale.burst == 1000 and scale.max_tokens == 1000 and scale.concurrency_limit == 1000
    assert scale.steps[-1] * 10 / scale.interval_s == 1000
    assert scale.runtime == "fork" and 0 < scale.hold_ms < scale.timeout_s * 1000
    assert sum(h.slots for h in scale.hosts) >= 1000  # the hosts place 1,000 environments


def test_a_file_path_loads(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        'name = "mine"\n[function]\nruntime = "fork"\nlog_format = "json"\n'
        '[lifetime]\nidle_reclaim_s = 0\n[[hosts]]\nname = "h1"\nslots = 3\n'
    )
    prof = load_profile(str(path))
    assert (prof.name, prof.runtime, prof.log_format) == ("mine", "fork", "json")
    assert prof.idle_reclaim_s is None  # 0 switches the timer off
    assert prof.hosts[0].name == "h1" and prof.hosts[0].slots == 3


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[function]\nruntime = "java"\n', "runtime must be one of awslambdaric, awslambdaric-fork, fork"),
        ("[scaling]\nburts = 3\n", "unknown key 'burts' in [scaling]"),
        ("[scaling]\nsteps = []\n", "non-empty list of positive integers"),
        ("[function]\nmemory_mb = 64\n", "memory_mb must be 128..10240"),
        ('[function]\ntimeout_s = "3"\n', "must be a number"),
        ("[[hosts]]\nslots = 2\n", "needs a name"),
        ('[[hosts]]\nname = "a"\n[[hosts]]\nname = "a"\n', "used twice"),
        ('[[hosts]]\nname = "a"\ncolour = 1\n', "unknown key 'colour'"),
        ("bogus = 1\n", "unknown section or key 'bogus'"),
        ("[function\n", "not valid TOML"),
        # NaN, infinities and absurd magnitudes are typos, never settings (issue 8)
        ("[function]\ntimeout_s = nan\n", "[function] timeout_s must be a finite number"),
        ("[scaling]\ninterval_s = inf\n", "[scaling] interval_s must be a finite number"),
        ("[logs]\ningestion_delay_s = -inf\n", "ingestion_delay_s must be a number >= 0"),
        ("[lifetime]\nidle_reclaim_s = inf\n", "[lifetime] idle_reclaim_s must be a number"),
        ("[lifetime]\nenv_max_lifetime_s = nan\n", "env_max_lifetime_s must be a number"),
        ("[function]\nnetwork_latency_ms = 1e300\n", "network_latency_ms must be at most 60,000"),
        ("[scaling]\nburst = 99999999999999\n", "burst must be at most 1,000,000"),
        ("[scaling]\nsteps = [10, 100000000]\n", "steps must be a non-empty list"),
        ('[[hosts]]\nname = "a"\nmhz = nan\n', "[hosts a] mhz must be a finite number"),
        ('[[hosts]]\nname = "a"\nlifetime_s = inf\n', "[hosts a] lifetime_s must be a number"),
        ('[[hosts]]\nname = "a"\nslots = 10000000\n', "slots must be at most 1,000,000"),
        ('[function]\nmode = "lambda"\n', "mode must be one of on-demand, snapstart, lmi"),
        ("[function]\nmax_concurrency = 4\n", 'max_concurrency > 1 needs mode = "lmi"'),
        ('[function]\nmode = "snapstart"\nruntime = "fork"\n', "needs runtime"),
        ("[capacity_provider]\nmin_environments = 1e9\n", "must be a whole number"),
        ("[machine]\nmax_processes = inf\n", "[machine] max_processes must be a whole number"),
        ("[machine]\ninit_slots = -1\n", "[machine] init_slots must be a whole number >= 0"),
        ("[load]\nhold_ms = 1.5\n", "[load] hold_ms must be a whole number"),
        ("[load]\nhold_ms = 3000\n", "would pass the function's timeout (3 s): lower hold_ms"),
        ("[load]\nhold = 3\n", "unknown key 'hold' in [load]; known: hold_ms"),
    ],
)
def test_bad_profiles_name_the_fix(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_profile(str(path))
    message = str(err.value)
    assert fragment in message and "\n" not in message and "bad.toml" in message


def test_missing_file_names_the_choices():
    with pytest.raises(ValueError, match="not found.*today"):
        load_profile("/no/such/profile.toml")


def test_parse_defaults_without_hosts():
    prof = parse_profile({})
    assert prof.hosts == [] and prof.warm_choice == "mru"


def test_a_folder_named_like_a_shipped_profile_does_not_shadow_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blog").mkdir()  # e.g. `run --export blog` wrote it
    assert load_profile("blog").name == "blog"


def test_a_profile_runs_a_users_handler_and_layers_from_paths_beside_it(tmp_path):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "layer").mkdir()
    path = tmp_path / "mine.toml"
    path.write_text('[function]\nhandler = "app.py:handler"\nlayers = ["layer"]\n')
    prof = load_profile(str(path))
    assert prof.handler == f"{tmp_path}/app.py:handler" and prof.layers == [str(tmp_path / "layer")]


@pytest.mark.parametrize(
    "function, message",
    [
        ('handler = "app.py"', "handler 'app.py': give FILE.py:FUNCTION"),
        ('handler = "missing.py:handler"', "missing.py not found: give FILE.py:FUNCTION"),
        ('handler = "app.py:not-a-name"', "must be Python names"),
        ('layers = ["nowhere"]', "nowhere not found: give a layer folder or .zip"),
        ('layers = ["a", "b", "c", "d", "e", "f"]', "at most 5 layer folders or zips"),
    ],
)
def test_a_bad_handler_or_layer_is_one_line_naming_the_fix(tmp_path, function, message):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "bad.toml"
    path.write_text(f"[function]\n{function}\n")
    with pytest.raises(ValueError) as exc:
        load_profile(str(path))
    assert message in str(exc.value) and "\n" not in str(exc.value)
