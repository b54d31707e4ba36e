"""Writing synthesized stacks: stable JSON; stacks the app does not build kept unless pruned; nothing else touched."""

import json

from sdk.settings import default_out
from sdk.synth import write_stacks
from sdk.tfjson import STACK_FILE


def _stale_and_other(tmp_path):
    (tmp_path / "old-stack").mkdir()
    (tmp_path / "old-stack" / STACK_FILE).write_text("{}", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "keep.py").write_text("x = 1\n", encoding="utf-8")


def test_a_stack_the_app_does_not_build_is_kept_and_reported(tmp_path):
    # GIVEN an output folder with a stack of another app (or a removed one) and a folder that is not a stack
    _stale_and_other(tmp_path)
    # WHEN one stack is written without prune
    others = write_stacks({"new-stack": {"resource": {"b": 1, "a": 2}}}, tmp_path)
    # THEN nothing is deleted, the stack folder is reported, and the JSON is sorted with a final newline
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-stack", "old-stack", "src"]
    assert others == [tmp_path / "old-stack"]
    text = (tmp_path / "new-stack" / STACK_FILE).read_text(encoding="utf-8")
    assert text == json.dumps({"resource": {"a": 2, "b": 1}}, indent=2) + "\n"


def test_prune_drops_only_stack_folders_the_app_does_not_build(tmp_path):
    # GIVEN the same folder WHEN written with prune
    _stale_and_other(tmp_path)
    write_stacks({"new-stack": {}}, tmp_path, prune=True)
    # THEN the stale stack is gone and the folder that is not a stack is untouched (e.g. --out . in a checkout)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-stack", "src"]
    assert (tmp_path / "src" / "keep.py").read_text(encoding="utf-8") == "x = 1\n"


def test_only_the_bundled_examples_default_to_generated():
    assert (default_out("examples"), default_out("my_app"), default_out("apps/x.py")) == (
        "generated",
        "out",
        "out",
    )


def test_the_stack_line_says_what_is_priced_as_us_east_1_outside_us_east_1():
    # GIVEN a stack in eu-west-1 with a GPU type its source has no eu-west-1 price for
    from sdk.hints import HINTS_KEY
    from sdk.synth import summary_lines

    capacity = {
        "asg_address": "aws_autoscaling_group.gpu",
        "instance_types": ["g6.xlarge"],
        "min_hosts": 1,
        "typical_hosts": 1,
        "max_hosts": 2,
        "gpus_per_task": 1,
        "tasks_per_host": 1,
    }
    tf = {
        "//": {HINTS_KEY: {"svc": {"blueprint": "AlbInferenceService", "gpu_capacity": [capacity]}}},
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {"aws_autoscaling_group": {"gpu": {}}},
    }
    # WHEN its summary is printed THEN the one line says so rather than silently pricing it as us-east-1
    (line,) = summary_lines("eu", tf)
    assert line.endswith("/month (priced as us-east-1: g6.xlarge hosts, every service but GPU hosts)")
