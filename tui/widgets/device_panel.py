"""JAX backend and devices, GPU utilisation/temperature through NVML, the fit's live throughput and, on a cluster,
every Ray actor (host, device, memory, share of the last batch, throughput; a lost actor marked)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from engine.devices import device_memory
from tui.actor_rows import actor_lines


@dataclass(frozen=True)
class DeviceInfo:
    """What was found about the accelerators (all strings, ready to show)."""

    backend: str = "…"
    devices: tuple[str, ...] = ()
    gpus: tuple[str, ...] = ()
    nvml: str = ""
    short: str = ""  # one line for the compact device line: backend, devices and memory


def _mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def gather_jax() -> tuple[str, tuple[str, ...]]:
    """JAX backend/version and one line per device (imports JAX: call from a worker)."""
    try:
        import jax  # lazy: JAX starts in this worker, after the first frame
    except Exception as e:  # noqa: BLE001
        return f"JAX unavailable: {type(e).__name__}: {e}", ()
    lines = []
    for d in jax.devices():
        try:
            stats = d.memory_stats()
        except Exception:  # noqa: BLE001
            stats = None
        mem = (f"{_mib(stats.get('bytes_in_use', 0))} / {_mib(stats['bytes_limit'])}"
               if stats and stats.get("bytes_limit") else "memory not reported")
        lines.append(f"{d.platform}:{d.id} {d.device_kind} — {mem}")
    return f"JAX {jax.__version__}, backend {jax.default_backend()}", tuple(lines)


def _gib(b: float) -> str:
    return f"{b / 2**30:,.1f} GiB"


def jax_short() -> str:
    """Backend, device count and kind, and memory (the devices', else the host's RAM) in one line (imports JAX)."""
    try:
        import jax
    except Exception:  # noqa: BLE001
        return "JAX unavailable"
    devs = jax.devices()
    kinds = sorted({d.device_kind for d in devs})
    used, limit = device_memory(devs)
    if limit:
        memory = f"{_gib(used)} / {_gib(limit)}"
    else:
        try:
            memory = f"host RAM {_gib(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES'))}"
        except (ValueError, OSError, AttributeError):
            memory = "memory not reported"
    return f"backend {jax.default_backend()} · {len(devs)}× {'/'.join(kinds)} · {memory}"


def gather_nvml() -> tuple[tuple[str, ...], str]:
    """One line per NVIDIA GPU (utilisation, temperature, memory), or why there is none."""
    try:
        import pynvml
    except ImportError:
        return (), "NVML: pynvml not installed (pip install nvidia-ml-py)"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        return (), f"NVML: no NVIDIA GPU/driver ({e})"
    try:
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            name = name.decode() if isinstance(name, bytes) else name
            util = pynvml.nvmlDeviceGetUtilizationRates(h)
            temp = pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            out.append(f"GPU{i} {name}: {util.gpu}% util, {temp}°C, {_mib(mem.used)} / {_mib(mem.total)}")
        return tuple(out), "" if out else "NVML: no GPUs"
    except pynvml.NVMLError as e:
        return (), f"NVML error: {e}"
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


class DevicePanel(Static):
    """Device facts (gathered in a worker after the first frame) and live throughput."""

    class Changed(Message):
        """What the panel shows changed: ``line`` is its one-line summary (for the compact device line)."""

        def __init__(self, line: Text) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, id: str | None = None, probe: bool = True) -> None:
        super().__init__(id=id)
        self.info = DeviceInfo()
        self.throughput = "no fit yet"
        self.throughput_short = "no fit yet"
        self.probe = probe
        self.actors: tuple = ()  # one ActorRow per Ray actor of a cluster fit
        self.simulated_seconds = 0.0

    def on_mount(self) -> None:
        self.border_title = "Device"
        self._show()
        if self.probe:
            self.call_after_refresh(self.gather)

    @work(thread=True, exclusive=True, group="device")
    def gather(self) -> None:
        """Gather JAX device facts once, then poll NVML every 2 s."""
        worker = get_current_worker()
        backend, devices = gather_jax()
        short = jax_short()
        gpus, nvml = gather_nvml()
        self.app.call_from_thread(self.set_info, DeviceInfo(backend, devices, gpus, nvml, short))
        while gpus and not worker.is_cancelled:
            time.sleep(2.0)
            gpus, nvml = gather_nvml()
            if not worker.is_cancelled:
                self.app.call_from_thread(self.set_info, DeviceInfo(backend, devices, gpus, nvml, short))

    def set_info(self, info: DeviceInfo) -> None:
        """Show gathered device facts."""
        self.info = info
        self._show()

    def set_throughput(self, candidates_per_s: float, sim_s_per_s: float, device: str | None = None) -> None:
        """Show the latest batch's throughput."""
        self.throughput = f"{candidates_per_s:,.1f} candidates/s · {sim_s_per_s:,.1f} simulated s per wall s"
        self.throughput_short = f"{candidates_per_s:,.1f} cand/s · {sim_s_per_s:,.1f} sim s/s"
        if device:
            self.throughput += f"\nrunning on {device}"
        self._show()

    def set_actors(self, rows, simulated_seconds: float = 0.0) -> None:
        """Show a cluster fit's actors (``engine.events.ActorRow``); no rows: none."""
        self.actors, self.simulated_seconds = tuple(rows), simulated_seconds
        self._show()

    def _show(self) -> None:
        i = self.info
        t = Text()
        t.append(i.backend + "\n", "bold")
        for d in i.devices:
            t.append("  " + d + "\n")
        for g in i.gpus:
            t.append("  " + g + "\n")
        if i.nvml:
            t.append(i.nvml + "\n", "dim")
        t.append("throughput: ", "bold")
        t.append(self.throughput)
        if self.actors:
            t.append("\n\n")
            t.append_text(actor_lines(self.actors, self.simulated_seconds))
        self.update(t)
        self.post_message(self.Changed(self.compact_line()))

    def compact_line(self) -> Text:
        """One line: backend, devices, memory (GPU utilisation when NVML reports it), throughput, actors."""
        i = self.info
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" Device ", "bold reverse")
        t.append(" " + (i.short or ("probing…" if self.probe else "not probed")))
        if i.gpus:
            t.append(" · " + i.gpus[0].split(": ", 1)[-1].split(",")[0])  # the first GPU's utilisation
        t.append(" · ")
        t.append(self.throughput_short, "bold" if self.throughput_short != "no fit yet" else "dim")
        if self.actors:
            t.append(f" · {len(self.actors)} Ray actors")
        return t


class DeviceLine(Static):
    """The device panel in one line, for terminals too small to show the panel beside the setup (80×24)."""

    DEFAULT_CSS = "DeviceLine { height: 1; width: 1fr; }"
