"""Console entry point: the Textual app, or the headless CLI for its subcommands."""

from __future__ import annotations

import argparse
import sys

#: Subcommands handled by the headless CLI (tui.cli.fit).
CLI_COMMANDS = ("fit", "simulate", "data", "study", "info", "bench", "runs", "resume", "export", "serve")


def parser() -> argparse.ArgumentParser:
    """The argument parser of the app itself (subcommands are listed in the epilog)."""
    p = argparse.ArgumentParser(
        prog="wcfit-tui",
        description="Fit a whole-brain Wilson–Cowan network to an empirical FC target, in the terminal. "
                    "With no subcommand, opens the interactive app.",
        epilog="subcommands (headless, see `wcfit-tui COMMAND --help`):\n"
               "  fit       run a fit without the UI and write a run directory\n"
               "  simulate  simulate one candidate: rE, BOLD, FC, FCD and scores into an .npz\n"
               "  data      check a dataset: N, scans, TR, labels, structural baseline, problems\n"
               "  study     one fit per subject (locally or on a Ray cluster)\n"
               "  info      print the JAX backend, devices, memory and GPUs\n"
               "  bench     measure candidates per second on this machine\n"
               "  runs      list run directories\n"
               "  resume    continue a stopped or crashed run\n"
               "  export    export a run's candidates CSV / summary JSON / FCs NPZ\n"
               "  attach RUN|STUDY  open the app as a read-only viewer of a (running) run, or a study's subjects\n"
               "  serve     serve the app (or `serve attach RUN`) to a web browser, loopback only by default\n\n"
               "keys in the app: F5 start, F6 stop, Ctrl+R reset, F7 export, F8 plot view, F11 landscape, "
               "Ctrl+T next term, Ctrl+B FCD/BOLD, Ctrl+N explore, Ctrl+F fit from here, F12 runs, F1 help, Ctrl+Q quit",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", default="bundled",
                   help="dataset: 'bundled' (HCP, 80 regions), a .msgpack/.npz/.mat file, a folder or .zip of tables, or kaggle:OWNER/DATASET[/FILE]")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the app, or dispatch a subcommand to the headless CLI; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in CLI_COMMANDS:
        from tui.cli.fit import main as cli_main

        return int(cli_main(argv) or 0)
    from engine.devices import use_cpu_cores_as_devices

    use_cpu_cores_as_devices()  # before JAX starts: shard batches over every CPU core
    attach = None
    if argv and argv[0] == "attach":
        if len(argv) != 2 or argv[1].startswith("-"):
            print("usage: wcfit-tui attach RUN_DIR|STUDY_DIR", file=sys.stderr)
            return 2
        from engine.runs import RunError
        from engine.study.table import attach_kind

        try:
            attach = str(attach_kind(argv[1])[1])
        except RunError as e:
            print(f"wcfit-tui: {e}", file=sys.stderr)
            return 2
        argv = []
    args = parser().parse_args(argv)
    from tui.app import WcfitApp

    app = WcfitApp(args.data, attach=attach)
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
