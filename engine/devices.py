"""What the compute devices are and how busy they are: JAX backend, memory, NVML, compilation cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence


@dataclass(frozen=True, kw_only=True)
class DeviceInfo:
    """One JAX device: its id, kind, platform and memory use where the backend reports it."""

    id: int
    kind: str
    platform: str
    bytes_in_use: int | None
    bytes_limit: int | None
    peak_bytes_in_use: int | None


@dataclass(frozen=True, kw_only=True)
class GpuStatus:
    """One NVIDIA GPU as NVML sees it."""

    index: int
    name: str
    utilization_pct: int
    temperature_c: int
    memory_used: int
    memory_total: int


def use_cpu_cores_as_devices(environ: dict[str, str] | None = None) -> int | None:
    """Before JAX starts: one host (CPU) device per core, so batches shard over all cores; returns the count.

    Only when XLA_FLAGS sets no device count already and ``WCFIT_CPU_DEVICES`` does not say otherwise
    (``WCFIT_CPU_DEVICES=1`` turns it off). It changes nothing on GPU, where the GPUs are the devices.
    """
    env = os.environ if environ is None else environ
    flags = env.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return None
    wanted = env.get("WCFIT_CPU_DEVICES")
    count = int(wanted) if wanted and wanted.isdigit() else min(os.cpu_count() or 1, 8)
    if count <= 1:
        return None
    env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
    return count


def default_cache_dir() -> Path:
    """Where JAX's persistent compilation cache lives (``WCFIT_CACHE_DIR`` or ~/.cache/wcfit-tui/jax)."""
    env = os.environ.get("WCFIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "wcfit-tui" / "jax"


def enable_compilation_cache(path: Path | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache for every compile (min time 0); None if it cannot."""
    if os.environ.get("WCFIT_NO_CACHE"):
        return None
    import jax

    path = path or default_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def backend() -> tuple[str, str]:
    """JAX's default backend name and JAX's version."""
    import jax

    return jax.default_backend(), jax.__version__


def device_memory(devs: Sequence[Any]) -> tuple[int, int]:
    """Bytes in use and limit summed over the devices that report a limit; (0, 0) where none does (e.g. CPU)."""
    used = limit = 0
    for d in devs:
        try:
            stats = d.memory_stats() or {}
        except Exception:  # noqa: BLE001 - backends without the call
            stats = {}
        if stats.get("bytes_limit"):
            used += int(stats.get("bytes_in_use", 0))
            limit += int(stats["bytes_limit"])
    return used, limit


def devices() -> list[DeviceInfo]:
    """Every local JAX device with its memory statistics (None where the backend has none, e.g. CPU)."""
    import jax

    out = []
    for d in jax.local_devices():
        try:
            stats = d.memory_stats() or {}
        except Exception:  # noqa: BLE001 - backends without the call
            stats = {}
        out.append(DeviceInfo(id=d.id, kind=d.device_kind, platform=d.platform,
                              bytes_in_use=stats.get("bytes_in_use"), bytes_limit=stats.get("bytes_limit"),
                              peak_bytes_in_use=stats.get("peak_bytes_in_use")))
    return out


def gpu_status() -> list[GpuStatus] | str:
    """NVIDIA GPUs via NVML, or a one-line reason why there is none to show."""
    try:
        import pynvml
    except ImportError:
        return "NVML not installed (pip install nvidia-ml-py)"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        return f"no NVIDIA GPU ({e})"
    try:
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            util = pynvml.nvmlDeviceGetUtilizationRates(h)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            temp = pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)
            out.append(GpuStatus(index=i, name=name.decode() if isinstance(name, bytes) else str(name),
                                 utilization_pct=int(util.gpu), temperature_c=int(temp),
                                 memory_used=int(mem.used), memory_total=int(mem.total)))
        return out
    except pynvml.NVMLError as e:
        return f"NVML error: {e}"
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def human_bytes(n: int | None) -> str:
    """Bytes as text, e.g. '1.5 GiB'; '—' when unknown."""
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def info_lines() -> list[str]:
    """A short human-readable report of backend, devices, memory and GPUs."""
    name, version = backend()
    lines = [f"JAX {version}, backend {name}"]
    for d in devices():
        mem = "memory not reported by this backend" if d.bytes_limit is None else \
            f"memory {human_bytes(d.bytes_in_use)} in use of {human_bytes(d.bytes_limit)}"
        lines.append(f"  device {d.id}: {d.kind} ({d.platform}), {mem}")
    gpus = gpu_status()
    if isinstance(gpus, str):
        lines.append(f"  NVML: {gpus}")
    else:
        for g in gpus:
            lines.append(f"  GPU {g.index}: {g.name}, {g.utilization_pct}% busy, {g.temperature_c} °C, "
                         f"{human_bytes(g.memory_used)} / {human_bytes(g.memory_total)}")
    cache = os.environ.get("WCFIT_NO_CACHE") and "off" or str(default_cache_dir())
    lines.append(f"  compilation cache: {cache}")
    return lines
