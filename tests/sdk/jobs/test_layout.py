"""S3 key layout of a job's inputs and outputs."""

from pathlib import Path, PurePosixPath

import pytest

from sdk.jobs.layout import check_prefix, input_key, output_files, output_key


def test_keys_follow_the_documented_layout() -> None:
    assert input_key("jobs/", "j1", "model.3mf") == "jobs/j1/inputs/model.3mf"
    assert output_key("jobs/", "j1", PurePosixPath("views/front.png")) == "jobs/j1/outputs/views/front.png"
    assert input_key("", "j1", "a") == "j1/inputs/a"


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "a b"])
def test_an_input_name_that_is_not_a_plain_file_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        input_key("jobs/", "j1", name)


@pytest.mark.parametrize("prefix", ["jobs", "/jobs/", "a//b/"])
def test_a_malformed_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="must be '' or like 'jobs/'"):
        check_prefix(prefix)


def test_output_files_lists_nested_files_only(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "a.png").write_bytes(b"1")
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    assert [str(rel) for _, rel in output_files(tmp_path)] == ["summary.json", "views/a.png"]
