"""`import sdk.jobs` stays light: worker images carry boto3 and pydantic, not cdktf."""

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
