"""GPU probe: each layer reports what it saw (its evidence); `verdict` turns the layers into a backend + diagnoses.

Layers: device nodes, NVML (nvidia-smi -L as fallback), CUDA via torch, Cycles' device list.
Every layer takes its environment as arguments (the /dev root, PATH) so tests can hand it a fake tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REQUIRED_NODES = ("nvidiactl", "nvidia-uvm")
SMI_LINE = re.compile(r"^GPU (\d+): (.+?) \(UUID: ([^)]+)\)")
SMI_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Layer:
    """One probe layer: `ok` when it found a usable GPU, `evidence` lines saying why, `details` as data."""

    name: str
    ok: bool
    evidence: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


@dataclass(frozen=True)
class Diagnosis:
    code: str
    message: str


@dataclass(frozen=True)
class Verdict:
    backend: str
    gpu_usable: bool
    reason: str
    diagnoses: tuple[Diagnosis, ...]


@dataclass(frozen=True)
class ProbeReport:
    layers: tuple[Layer, ...]
    verdict: Verdict

    def layer(self, name: str) -> Layer:
        return next(layer for layer in self.layers if layer.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {"layers": [asdict(layer) for layer in self.layers], "verdict": asdict(self.verdict)}


def device_nodes(dev_root: Path = Path("/dev")) -> Layer:
    """Which /dev/nvidia* nodes exist and whether this user may open them."""
    gpus = sorted(p.name for p in dev_root.glob("nvidia[0-9]*") if p.name[6:].isdigit())
    missing = [n for n in REQUIRED_NODES if not (dev_root / n).exists()]
    present = gpus + [n for n in REQUIRED_NODES if n not in missing]
    denied = [n for n in present if not os.access(dev_root / n, os.R_OK | os.W_OK)]
    evidence = [f"{dev_root}/{n} present" for n in present] + [f"{dev_root}/{n} missing" for n in missing]
    evidence += [f"{dev_root}/{n} not readable+writable by uid {os.getuid()}" for n in denied]
    if not gpus:
        evidence.append(f"no {dev_root}/nvidia<N> GPU node")
    details = {"gpus": gpus, "missing": missing, "denied": denied}
    return Layer("device_nodes", bool(gpus) and not missing and not denied, tuple(evidence), details)


def nvml() -> Layer:
    """Driver version and GPUs through NVML (nvidia-ml-py); fails when libnvidia-ml is not loadable."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:
        return Layer("nvml", False, (f"NVML unavailable: {exc or type(exc).__name__}",))
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = [_nvml_gpu(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount())]
    finally:
        pynvml.nvmlShutdown()
    evidence = [f"driver {driver}"] + [_gpu_line(g) for g in gpus]
    return Layer("nvml", bool(gpus), tuple(evidence), {"driver": driver, "gpus": gpus})


# nvmlDeviceGetVirtualizationMode values (nvml.h): a g6f partition shows as a vGPU guest.
VIRTUALIZATION_MODES = {0: "none", 1: "passthrough", 2: "vGPU guest", 3: "vGPU host", 4: "vSGA host"}


def _gpu_line(gpu: dict[str, Any]) -> str:
    line = f"GPU {gpu['index']}: {gpu['name']}, {gpu['memory_mib']} MiB"
    mode = VIRTUALIZATION_MODES.get(gpu.get("virtualization_mode", 0))
    if mode not in (None, "none"):
        line += f", virtualization: {mode}"
    mig = gpu.get("mig_mode")
    if isinstance(mig, (list, tuple)) and mig and mig[0]:
        line += ", MIG enabled"
    return line


def _nvml_gpu(pynvml: Any, index: int) -> dict[str, Any]:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    gpu: dict[str, Any] = {
        "index": index,
        "name": _text(pynvml.nvmlDeviceGetName(handle)),
        "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
        "memory_mib": memory.total // (1024 * 1024),
    }
    for key, call in (("virtualization_mode", "nvmlDeviceGetVirtualizationMode"), ("mig_mode", "nvmlDeviceGetMigMode")):
        try:  # vGPU / partition information is not exposed on every driver or GPU
            gpu[key] = getattr(pynvml, call)(handle)
        except Exception:
            gpu[key] = None
    return gpu


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def nvidia_smi(path_env: str | None = None) -> Layer:
    """`nvidia-smi -L` from PATH: the fallback when NVML cannot be loaded from Python."""
    exe = shutil.which("nvidia-smi", path=path_env if path_env is not None else os.environ.get("PATH", ""))
    if exe is None:
        return Layer("nvidia_smi", False, ("nvidia-smi not found on PATH",))
    try:
        run = subprocess.run(
            [exe, "-L"], capture_output=True, encoding="utf-8", errors="replace", timeout=SMI_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Layer("nvidia_smi", False, (f"{exe} -L failed: {exc}",))
    gpus = [
        {"index": int(m[1]), "name": m[2], "uuid": m[3]}
        for line in run.stdout.splitlines()
        if (m := SMI_LINE.match(line.strip()))
    ]
    output = (run.stdout + run.stderr).strip().splitlines()
    evidence = [f"{exe} -L exited {run.returncode}", *output[:8]]
    return Layer("nvidia_smi", run.returncode == 0 and bool(gpus), tuple(evidence), {"gpus": gpus})


def torch_cuda() -> Layer:
    """Create a CUDA context and run one small kernel through torch, when torch is installed."""
    try:
        import torch
    except ImportError:
        return Layer("torch_cuda", False, ("torch not installed; CUDA check skipped",), skipped=True)
    if not torch.cuda.is_available():
        return Layer(
            "torch_cuda", False, (f"torch {torch.__version__}: CUDA not available (build cuda={torch.version.cuda})",)
        )
    try:
        value = float(torch.arange(1024, device="cuda", dtype=torch.float32).sum().item())
        name = torch.cuda.get_device_name(0)
        capability = ".".join(map(str, torch.cuda.get_device_capability(0)))
    except Exception as exc:
        return Layer("torch_cuda", False, (f"CUDA initialisation failed: {exc}",))
    ok = value == 523776.0
    return Layer(
        "torch_cuda", ok, (f"{name} (compute {capability}): kernel sum {value:g}",), {"capability": capability}
    )


def cycles_layer() -> Layer:
    """Cycles' own device list per backend (imports bpy)."""
    try:
        from render_worker.cycles import cycles_devices

        with stdout_to_stderr():  # Blender logs to stdout; keep it clean for --json
            found = cycles_devices()
    except Exception as exc:
        return Layer("cycles", False, (f"Cycles device list unavailable: {exc}",))
    evidence = tuple(f"{b.upper()}: {', '.join(names) or 'none'}" for b, names in found.items())
    return Layer("cycles", bool(found.get("optix") or found.get("cuda")), evidence, {"devices": found})


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at stderr for the block (catches C-level writes too)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def verdict(layers: Sequence[Layer]) -> Verdict:
    """Backend to use and why, with a named diagnosis for each known mismatch between layers."""
    by = {layer.name: layer for layer in layers}
    cycles = by.get("cycles")
    devices = cycles.details.get("devices", {}) if cycles else {}
    diagnoses = tuple(_diagnose(by))
    for backend in ("optix", "cuda"):
        if devices.get(backend):
            return Verdict(
                backend, True, f"Cycles lists {backend.upper()} device(s): {', '.join(devices[backend])}", diagnoses
            )
    sees_gpu = any(by[n].ok for n in ("nvml", "nvidia_smi") if n in by)
    reason = "GPU visible to the driver but unusable by Cycles" if sees_gpu else "no NVIDIA GPU visible"
    return Verdict("cpu", False, f"{reason}; rendering falls back to CPU", diagnoses)


def _diagnose(by: dict[str, Layer]) -> list[Diagnosis]:
    nodes, cyc, torch_l = by.get("device_nodes"), by.get("cycles"), by.get("torch_cuda")
    driver = any(by[n].ok for n in ("nvml", "nvidia_smi") if n in by)
    gpu_nodes = bool(nodes and nodes.details.get("gpus"))
    missing = nodes.details.get("missing", []) if nodes else []
    denied = nodes.details.get("denied", []) if nodes else []
    devices = cyc.details.get("devices", {}) if cyc else {}
    out = []
    if not driver and not gpu_nodes:
        out.append(Diagnosis("no-gpu", "no NVIDIA device nodes and no driver: CPU fallback (expected on CPU hosts)"))
    if driver and not gpu_nodes:
        out.append(
            Diagnosis(
                "device-not-mapped",
                "the driver sees a GPU but no /dev/nvidia<N> is in the container: set the task's GPU "
                "resourceRequirements so the ECS agent maps it (do not hand-map /dev nodes)",
            )
        )
    if gpu_nodes and not driver:
        out.append(
            Diagnosis(
                "driver-tools-missing",
                "GPU device nodes exist but neither NVML (libnvidia-ml) nor nvidia-smi is available: the NVIDIA "
                "container runtime did not inject the driver (NVIDIA_DRIVER_CAPABILITIES needs compute,utility)",
            )
        )
    if gpu_nodes and "nvidia-uvm" in missing:
        out.append(
            Diagnosis(
                "uvm-missing",
                "/dev/nvidia-uvm is missing: CUDA cannot initialise although the GPU is visible "
                "(load nvidia-uvm on the host, e.g. run nvidia-modprobe -u -c=0, or use the ECS GPU AMI)",
            )
        )
    if denied:
        out.append(
            Diagnosis(
                "permission-denied",
                f"no read/write permission on {', '.join(denied)} for uid {os.getuid()}: run with the device "
                "group (video) or let the NVIDIA runtime set the permissions",
            )
        )
    if driver and torch_l and not torch_l.ok and not torch_l.skipped and gpu_nodes and not missing:
        out.append(
            Diagnosis(
                "cuda-init-failed",
                "the driver sees a GPU but CUDA could not run a kernel: "
                "check driver vs CUDA runtime versions (" + "; ".join(torch_l.evidence) + ")",
            )
        )
    if cyc and (driver or (torch_l and torch_l.ok)) and not devices.get("cuda") and not devices.get("optix"):
        out.append(
            Diagnosis(
                "cycles-no-gpu",
                "CUDA is present but Cycles lists no CUDA/OptiX device: the "
                "driver may be too old for this Blender build, or libcuda is not on the loader path",
            )
        )
    if devices.get("cuda") and not devices.get("optix"):
        out.append(
            Diagnosis(
                "optix-unavailable",
                "CUDA works but OptiX does not: the driver's OptiX library "
                "(libnvoptix) is missing; NVIDIA_DRIVER_CAPABILITIES needs graphics",
            )
        )
    return out


def probe(
    dev_root: Path = Path("/dev"),
    path_env: str | None = None,
    with_torch: bool = True,
    with_cycles: bool = True,
) -> ProbeReport:
    """Run every layer (nvidia-smi only when NVML is unavailable) and return them with the verdict."""
    layers = [device_nodes(dev_root), nvml()]
    if not layers[-1].ok:
        layers.append(nvidia_smi(path_env))
    layers.append(torch_cuda() if with_torch else Layer("torch_cuda", False, ("skipped",), skipped=True))
    if with_cycles:
        layers.append(cycles_layer())
    return ProbeReport(tuple(layers), verdict(layers))


def format_report(report: ProbeReport) -> str:
    lines = []
    for layer in report.layers:
        state = "skip" if layer.skipped else ("ok" if layer.ok else "no")
        lines.append(f"[{state:>4}] {layer.name}")
        lines += [f"       {line}" for line in layer.evidence]
    v = report.verdict
    lines.append(f"verdict: {v.backend} ({v.reason})")
    lines += [f"  diagnosis {d.code}: {d.message}" for d in v.diagnoses]
    return "\n".join(lines)
