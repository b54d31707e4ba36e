"""`import sdk.jobs` stays light: worker images carry boto3 and pydantic, not cdktf."""

import json
import os
import subprocess
import sys


def test_importing_the_job_protocol_never_loads_cdktf() -> None:
    # GIVEN a fresh interpreter
    code = (
        "import sys, sdk.jobs; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'cdktf', 'jsii', 'constructs', "
        "'cdktf_cdktf_provider_aws', 'torch', 'bpy'}))"
    )
    # WHEN it imports sdk.jobs
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, encoding="utf-8", check=True)
    # THEN none of the heavy packages was loaded
    assert out.stdout.strip() == "[]"


def test_importing_the_job_protocol_sets_no_environment_variable_and_installs_no_import_hook() -> None:
    # GIVEN a fresh interpreter whose environment has no JSII_NODE (the engine module sets it, sdk.jobs must not)
    code = (
        "import json, os, sys; before = dict(os.environ); import sdk, sdk.jobs, sdk.specs; "
        "print(json.dumps({'changed': sorted(k for k in {*before, *os.environ} if before.get(k) != os.environ.get(k)), "
        "'finders': [type(f).__name__ for f in sys.meta_path if type(f).__module__.startswith('sdk')]}))"
    )
    env = {key: value for key, value in os.environ.items() if key != "JSII_NODE"}
    # WHEN it imports sdk, sdk.jobs and the specs
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, encoding="utf-8", env=env, check=True)
    # THEN no variable (JSII_NODE among them) was set or changed and no meta-path finder of ours was installed
    assert json.loads(out.stdout) == {"changed": [], "finders": []}


def test_what_a_synth_imports_from_the_job_protocol_does_not_load_boto3_and_every_public_name_still_resolves() -> None:
    # GIVEN a fresh interpreter that imports what the blueprints import from sdk.jobs (schema, config, layout, the
    # dead-letter sweep's limit), then every name of sdk.jobs.__all__
    code = (
        "import sys, sdk.jobs.schema, sdk.jobs.config, sdk.jobs.layout; from sdk.jobs.dead_letters import SWEEP_LIMIT; "
        "before = 'boto3' in sys.modules; import sdk.jobs; from sdk.jobs import JobClient, Worker; "
        "names = [n for n in sdk.jobs.__all__ if getattr(sdk.jobs, n, None) is None]; "
        "print(before, 'boto3' in sys.modules, names, JobClient.__module__, Worker.__module__)"
    )
    # WHEN it runs
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, encoding="utf-8", check=True)
    # THEN boto3 was not loaded before the client was asked for, and every public name resolves to its module's
    assert out.stdout.split() == ["False", "True", "[]", "sdk.jobs.client", "sdk.jobs.worker"]
