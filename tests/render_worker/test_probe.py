"""Probe layers against fake device trees and a fake nvidia-smi (the environment), plus the real NVML/torch/bpy.

NVML here is the real library failing to load libnvidia-ml, torch is the CPU build: the real no-driver path.
"""

from __future__ import annotations

import json
import stat
import sys
import types
from pathlib import Path

from render_worker.probe import Layer, device_nodes, nvidia_smi, nvml, probe, torch_cuda, verdict

SMI_L4 = "GPU 0: NVIDIA L4 (UUID: GPU-7a1c0f9e-1111-2222-3333-444455556666)"


def dev_tree(root: Path, *names: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).touch(mode=0o666)
    return root


def fake_smi(folder: Path, output: str, code: int = 0) -> str:
    """An nvidia-smi on a PATH of its own that prints `output` and exits with `code`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\nexit {code}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(folder)


def codes(layers: list[Layer]) -> set[str]:
    return {d.code for d in verdict(layers).diagnoses}


def test_a_complete_device_tree_is_reported_usable(tmp_path: Path) -> None:
    # GIVEN /dev with a GPU node, nvidiactl and nvidia-uvm
    layer = device_nodes(dev_tree(tmp_path, "nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"))
    # THEN the layer is ok and lists what it found
    assert layer.ok and layer.details["gpus"] == ["nvidia0"]
    assert any("nvidia-uvm present" in line for line in layer.evidence)


def test_an_empty_device_tree_has_no_gpu(tmp_path: Path) -> None:
    layer = device_nodes(dev_tree(tmp_path / "dev"))
    assert not layer.ok and layer.details["missing"] == ["nvidiactl", "nvidia-uvm"]


def test_device_nodes_the_user_cannot_open_are_diagnosed() -> None:
    # GIVEN a device layer that found nvidia0 but may not open it (a non-root user outside the video group)
    layers = [
        Layer("device_nodes", False, (), {"gpus": ["nvidia0"], "missing": [], "denied": ["nvidia0"]}),
        Layer("nvidia_smi", True, (SMI_L4,)),
    ]
    # THEN the diagnosis names the node and the fix
    messages = {d.code: d.message for d in verdict(layers).diagnoses}
    assert "nvidia0" in messages["permission-denied"] and "video" in messages["permission-denied"]


def test_nvidia_smi_output_is_parsed_into_gpus(tmp_path: Path) -> None:
    # GIVEN an nvidia-smi that lists one L4
    path = fake_smi(tmp_path / "bin", SMI_L4)
    # WHEN the fallback layer runs THEN it finds the GPU and its UUID
    layer = nvidia_smi(path)
    assert layer.ok
    assert layer.details["gpus"] == [
        {"index": 0, "name": "NVIDIA L4", "uuid": "GPU-7a1c0f9e-1111-2222-3333-444455556666"}
    ]


def test_a_failing_nvidia_smi_is_not_a_gpu(tmp_path: Path) -> None:
    # GIVEN nvidia-smi failing the way it does without a driver
    path = fake_smi(
        tmp_path / "bin", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 9
    )
    layer = nvidia_smi(path)
    # THEN the layer is not ok and keeps the tool's message as evidence
    assert not layer.ok and any("couldn't communicate" in line for line in layer.evidence)


def test_a_missing_nvidia_smi_is_reported(tmp_path: Path) -> None:
    assert nvidia_smi(str(tmp_path)).evidence == ("nvidia-smi not found on PATH",)


def test_real_nvml_without_a_driver_reports_the_library_error() -> None:
    # GIVEN this machine (no libnvidia-ml) WHEN NVML is probed THEN it fails with NVML's own message
    layer = nvml()
    assert not layer.ok and layer.evidence[0].startswith("NVML unavailable:")


def test_nvml_on_a_g6f_partition_reports_the_gpu_its_memory_and_the_vgpu_mode(monkeypatch) -> None:
    # GIVEN an NVML that sees 1/8 of an L4 as a vGPU guest (a stand-in module: no driver on this machine)
    calls: list[str] = []

    class FakeNvml(types.SimpleNamespace):
        def __getattr__(self, name: str):  # any call not listed below is an NVML error on this driver
            raise RuntimeError(f"{name} not supported")

    fake = FakeNvml(
        nvmlInit=lambda: calls.append("init"),
        nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlSystemGetDriverVersion=lambda: b"570.133.20",
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(total=2861 * 1024 * 1024),
        nvmlDeviceGetName=lambda h: b"NVIDIA L4-3Q",
        nvmlDeviceGetUUID=lambda h: "GPU-1",
        nvmlDeviceGetVirtualizationMode=lambda h: 2,
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    # WHEN the NVML layer runs
    layer = nvml()
    # THEN it is usable, says what it saw, and let NVML go again
    assert layer.ok and calls == ["init", "shutdown"]
    assert layer.evidence == ("driver 570.133.20", "GPU 0: NVIDIA L4-3Q, 2861 MiB, virtualization: vGPU guest")
    assert layer.details["gpus"][0]["mig_mode"] is None  # not supported there: recorded, not fatal


def test_real_torch_without_cuda_reports_it() -> None:
    layer = torch_cuda()
    assert not layer.ok and "CUDA not available" in layer.evidence[0]


def test_no_gpu_anywhere_falls_back_to_cpu(tmp_path: Path) -> None:
    # GIVEN an empty /dev and no nvidia-smi, on the real NVML/torch/Cycles of this machine
    report = probe(dev_root=dev_tree(tmp_path / "dev"), path_env=str(tmp_path))
    # THEN the verdict is CPU with the no-gpu diagnosis, and Cycles' CPU is the evidence
    assert report.verdict.backend == "cpu" and not report.verdict.gpu_usable
    assert {d.code for d in report.verdict.diagnoses} == {"no-gpu"}
    assert "CPU" in " ".join(report.layer("cycles").evidence)
    assert json.loads(json.dumps(report.as_dict()))["verdict"]["backend"] == "cpu"


def test_a_gpu_seen_by_the_driver_without_nvidia_uvm_is_diagnosed(tmp_path: Path) -> None:
    # GIVEN nvidia-smi sees an L4 but /dev lacks nvidia-uvm (CUDA cannot initialise)
    report = probe(
        dev_root=dev_tree(tmp_path / "dev", "nvidia0", "nvidiactl"), path_env=fake_smi(tmp_path / "b", SMI_L4)
    )
    # THEN the uvm-missing diagnosis names the node and the fix
    diagnosis = {d.code: d.message for d in report.verdict.diagnoses}
    assert "uvm-missing" in diagnosis and "nvidia-modprobe" in diagnosis["uvm-missing"]
    assert report.verdict.backend == "cpu" and "unusable by Cycles" in report.verdict.reason


def test_a_gpu_the_container_cannot_see_is_diagnosed_as_not_mapped(tmp_path: Path) -> None:
    # GIVEN nvidia-smi works but no /dev/nvidia<N> is mapped into the container
    report = probe(dev_root=dev_tree(tmp_path / "dev", "nvidiactl"), path_env=fake_smi(tmp_path / "b", SMI_L4))
    assert "device-not-mapped" in {d.code for d in report.verdict.diagnoses}


def test_device_nodes_without_driver_tools_are_diagnosed(tmp_path: Path) -> None:
    # GIVEN device nodes but no NVML library and no nvidia-smi (the runtime did not inject the driver)
    report = probe(dev_root=dev_tree(tmp_path / "dev", "nvidia0", "nvidiactl", "nvidia-uvm"), path_env=str(tmp_path))
    assert "driver-tools-missing" in {d.code for d in report.verdict.diagnoses}


def test_cycles_devices_decide_the_backend_and_missing_optix_is_diagnosed() -> None:
    # GIVEN layers where the driver works and Cycles lists CUDA but not OptiX
    layers = [
        Layer("device_nodes", True, (), {"gpus": ["nvidia0"], "missing": [], "denied": []}),
        Layer("nvml", True, ("driver 570.1",)),
        Layer("cycles", True, (), {"devices": {"optix": [], "cuda": ["NVIDIA L4"], "cpu": ["CPU"]}}),
    ]
    # WHEN the verdict is formed THEN CUDA is chosen and the OptiX gap is named
    result = verdict(layers)
    assert (result.backend, result.gpu_usable) == ("cuda", True)
    assert codes(layers) == {"optix-unavailable"}


def test_a_driver_whose_gpu_cycles_cannot_use_is_diagnosed() -> None:
    layers = [
        Layer("device_nodes", True, (), {"gpus": ["nvidia0"], "missing": [], "denied": []}),
        Layer("nvidia_smi", True, (SMI_L4,)),
        Layer("torch_cuda", False, ("CUDA initialisation failed: driver too old",)),
        Layer("cycles", False, (), {"devices": {"optix": [], "cuda": [], "cpu": ["CPU"]}}),
    ]
    assert codes(layers) == {"cuda-init-failed", "cycles-no-gpu"}
