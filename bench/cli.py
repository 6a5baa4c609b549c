"""The ``mailbench`` command: a contract users script against.

Each command is one small function; the work lives in the library. Every error a user
can fix is one line on stderr and a non-zero exit (2 for bad input, 130 when
interrupted); the last line a successful ``run`` prints is the report folder's path.
"""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench.errors import MailbenchError, UsageError
from bench.modes import MODES
from bench.plan import PLANS
from bench.side_by_side import summary_line as side_by_side_line
from bench.time_split import summary_lines

stderr = Console(stderr=True)


class ProgressObserver:
    """Shows a run's progress: messages above a bar counting finished samples (a failed cell
    counts its samples left at once), the time elapsed and the time left, estimated from them."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("preparing", total=None)

    def say(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def start(self, total_samples: int) -> None:
        self._progress.update(self._task, total=total_samples, description="samples")

    def advance(self, label: str) -> None:
        self._progress.update(self._task, advance=1, description=label)


MAX_CELL_TIMEOUT_S = 7 * 24 * 3600.0
# The time left comes from the samples done in this window: the whole run (rich's 30 s may hold none).
ESTIMATE_PERIOD_S = MAX_CELL_TIMEOUT_S


def _cell_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not (math.isfinite(value) and 0 < value <= MAX_CELL_TIMEOUT_S):
        raise click.BadParameter(f"{value:g} is not a number of seconds above 0 and at most {MAX_CELL_TIMEOUT_S:g}")
    return value


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".mailbench-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to --out {folder} ({exc.strerror}); choose a writable folder") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mailbench")
def cli() -> None:
    """Measure IMAP against POP3 on real mail servers in containers."""


@cli.command()
@click.option("--plan", type=click.Choice(list(PLANS)), default=None,
              help="Which cells a run holds where no filter says: decision, the cells the report's decision "
                   "page reads (3 samples, 2 on mobile-4g, 100 messages; the default), or full, every scenario's "
                   "variants, TLS settings and default links (their own samples, 300 messages). With --scenario "
                   "and no --plan: full.")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME",
              help="Scenario to run (repeatable; default: the plan's: all but new-mail, which runs when named).")
@click.option("--server", "servers", multiple=True, metavar="NAME", help="Server to run on (repeatable; default: all).")
@click.option("--mode", "modes", multiple=True, type=click.Choice(list(MODES)), help="Protocol/mode (repeatable; default: imap, pop3-keep, pop3-delete; jmap where named).")
@click.option("--variant", "variants", multiple=True, metavar="NAME",
              help="Scenario variant (repeatable; default: the plan's: each scenario's main one, or all).")
@click.option("--tls", "tls", multiple=True, type=click.Choice(["off", "on", "starttls"]),
              help="TLS: off, on (implicit: IMAPS/POP3S), starttls (repeatable; default: off, and in the full plan "
                   "off and on for bulk-fetch).")
@click.option("--link", "links", multiple=True, metavar="LINK",
              help="Network link: lan, broadband, mobile-4g, mobile-3g, satellite, or rtt=80ms,down=20mbit,up=5mbit "
                   "(repeatable; default: lan, and unless --scenario is named without --plan also bulk-fetch's full "
                   "download, TLS off, on mobile-4g).")
@click.option("--messages", type=click.IntRange(min=1),
              help="Messages per mailbox (default: 100 in the decision plan, 300 in the full one; with --corpus, "
                   "all of it).")
@click.option("--repeat", type=click.IntRange(min=1), default=None,
              help="Samples per cell (default: 3 in the decision plan; in the full one each scenario's own: 5 for "
                   "bulk-fetch, whose speed test needs them, 3 for the others; 2 on a relayed link in both).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the generated corpus.")
@click.option("--corpus", type=click.Path(path_type=Path), help="Use your own mbox file, Maildir or .eml instead.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True, help="Where run folders go.")
@click.option("--port-base", type=click.IntRange(1024, 65000), help="Publish server ports from this one up (default: free ports).")
@click.option("--no-pipelining", is_flag=True, help="Never pipeline commands, even where the server allows it.")
@click.option("--cell-timeout", type=float, default=3600.0, show_default=True, metavar="SECONDS", callback=_cell_timeout,
              help="Wall-clock limit of one cell, all its samples included: past it the cell fails and the run goes on.")
@click.option("--deliver-each-sample", is_flag=True,
              help="Deliver every sample's mailbox over IMAP APPEND, instead of copying it on the server from a "
                   "template delivered once.")
@click.option("--one-server-at-a-time", is_flag=True,
              help="Run the cells on relayed links (mobile-4g, ...) one server after another, as the lan cells, "
                   "instead of every server's side by side, a process each, once the lan cells are done.")
@click.option("--users", "users", multiple=True, type=int, metavar="N",
              help="many-devices: a level of users at once (repeatable; default: 10 and 30).")
@click.option("--load-workers", type=int, default=1, show_default=True, metavar="K",
              help="many-devices: local Locust workers (the master runs beside them).")
@click.option("--remote-workers", type=int, default=0, show_default=True, metavar="N",
              help="many-devices: Locust workers you start on other machines, which the master waits for too "
                   "(needs --publish-address; docs/load.md).")
@click.option("--find-capacity", is_flag=True,
              help="many-devices: step up 1-2-5 levels from the smallest --users until a level does not pass.")
@click.option("--max-users", type=int, default=300, show_default=True, metavar="N",
              help="many-devices: the largest level a run may reach (each server gets this many accounts per mode).")
@click.option("--publish-address", default="127.0.0.1", show_default=True, metavar="IP",
              help="many-devices: also publish the servers' ports, and bind the Locust master, on this address "
                   "(for workers on other machines, docs/load.md).")
@click.option("--level-seconds", type=float, default=30.0, show_default=True, metavar="SECONDS",
              help="many-devices: how long each level is measured, after its users are spawned and settled.")
@click.option("--time-compression", type=float, default=60.0, show_default=True, metavar="FACTOR",
              help="many-devices: user seconds per real second (polls, mail rate).")
@click.option("--qos-latency", type=float, default=1.0, show_default=True, metavar="SECONDS",
              help="many-devices QoS: a command within this long is on time.")
@click.option("--qos-on-time", type=float, default=0.95, show_default=True, metavar="SHARE",
              help="many-devices QoS: share of commands, and of new mail, that must be on time.")
@click.option("--qos-push-delay", type=float, default=2.0, show_default=True, metavar="SECONDS",
              help="many-devices QoS: new mail on a pushed device within this long (polling: interval plus this).")
@click.option("--qos-errors", type=float, default=0.001, show_default=True, metavar="SHARE",
              help="many-devices QoS: errors must stay below this share of commands.")
def run(plan, scenarios, servers, modes, variants, tls, links, messages, repeat, seed, corpus, out, port_base,
        no_pipelining, cell_timeout, deliver_each_sample, one_server_at_a_time, users, load_workers, remote_workers, find_capacity, max_users,
        publish_address, level_seconds, time_compression, qos_latency, qos_on_time, qos_push_delay,
        qos_errors) -> None:
    """Run scenarios on servers and write results, report and charts."""
    from bench.load.config import LoadConfig
    from bench.load.qos import QosLimits
    from bench.runner import Run, RunConfig

    load = LoadConfig(
        users=tuple(users) if users else (() if find_capacity else (10, 30)), find_capacity=find_capacity,
        max_users=max_users, workers=load_workers, remote_workers=remote_workers, publish_address=publish_address,
        window_s=level_seconds,
        compression=time_compression,
        qos=QosLimits(command_s=qos_latency, command_share=qos_on_time, delay_share=qos_on_time,
                      push_delay_s=qos_push_delay, poll_slack_s=qos_push_delay, error_share=qos_errors),
    )

    config = RunConfig(
        plan=plan, scenarios=list(scenarios), servers=list(servers), modes=list(modes), variants=list(variants),
        tls=list(tls), links=list(links), messages=messages, repeat=repeat, seed=seed, corpus=corpus, out=out, port_base=port_base,
        pipelining=not no_pipelining, cell_timeout_s=cell_timeout, deliver_each_sample=deliver_each_sample,
        side_by_side=not one_server_at_a_time,
        load=load,
    )
    the_run = Run(config)  # validates names and corpus before anything is written or started
    _check_writable(out)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True, speed_estimate_period=ESTIMATE_PERIOD_S) as progress:
        the_run.observer = ProgressObserver(progress)
        try:
            folder = the_run.execute()
        except KeyboardInterrupt:
            if the_run.folder.exists():  # else nothing had started: nothing to keep
                the_run.save(last=True)
            stderr.print(f"interrupted: finished cells are in {the_run.path}; containers removed")
            sys.exit(130)
    from bench.report import render  # after the run: matplotlib stays out of its memory figures

    for line in summary_lines(the_run.results.cells):  # where each scenario's time went, before the report
        stderr.print(line, highlight=False)
    side = side_by_side_line(the_run.results.plan, the_run.results.cells)
    if side is not None:
        stderr.print(side, highlight=False)
    from bench.report.scenarios.many_devices import level_lines

    for line in level_lines(the_run.results):  # many-devices: each level's figures and verdict
        stderr.print(line, highlight=False, markup=False)
    files = render(the_run.results, folder, results_file=the_run.path)  # saved whole by execute()
    failed = the_run.results.failed_cells
    stderr.print(
        f"{len(the_run.results.cells)} cells, {len(failed)} failed; report: {files.html}",
        highlight=False,
    )
    click.echo(folder)


@cli.command()
@click.argument("results_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Folder for the report (default: beside the results).")
def report(results_file: Path, out: Path | None) -> None:
    """Render the report of a results file again, from the file alone."""
    from bench.report import render
    from bench.results import load

    results = load(results_file)
    folder = out or results_file.parent
    _check_writable(folder)
    files = render(results, folder, results_file=results_file)
    click.echo(files.markdown)
    click.echo(files.appendix)
    click.echo(files.html)


@cli.command()
@click.option("--server", "servers", multiple=True, metavar="NAME", help="Server to measure (repeatable; default: all).")
@click.option("--into", type=click.Path(path_type=Path), help="Add the figures to this results.json and render its report again.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True, help="Where a new run folder goes.")
def micro(servers, into: Path | None, out: Path) -> None:
    """Per-operation latency micro-benchmarks (pytest-benchmark) against the servers."""
    from bench import environment
    from bench.micro import rows_from_json, run_benchmarks
    from bench.report import render
    from bench.results import Results, load, save
    from bench.runner import new_run_id, now_iso
    from bench.servers import get_server
    from bench.servers.docker_client import connect

    for name in servers:
        get_server(name)
    if into is not None:
        results, folder = load(into), into.parent
    else:
        run_id = new_run_id()
        results = Results(run_id=run_id, started_at=now_iso(), command=f"mailbench micro {' '.join(sys.argv[2:])}".strip())
        folder = out / run_id
    _check_writable(folder)
    client = connect()
    if not results.environment:
        results.environment = environment.describe(client)
    json_path = folder / "micro.json"
    run_benchmarks(list(servers), json_path)
    results.micro = rows_from_json(json_path)
    if results.finished_at is None and into is None:
        results.finished_at = now_iso()
    save(results, folder / "results.json")
    files = render(results, folder)
    stderr.print(f"{len(results.micro)} micro-benchmarks; report: {files.html}", highlight=False)
    click.echo(folder)


@cli.command()
@click.argument("results_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the charts.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["png", "svg"]), help="Image format (repeatable; default: both).")
def charts(results_file: Path, out: Path, formats) -> None:
    """Export a run's charts alone (PNG and SVG), for documentation."""
    from bench.report import write_charts
    from bench.results import load

    results = load(results_file)
    _check_writable(out)
    for path in write_charts(results, out, formats=tuple(formats) or ("png", "svg"), results_file=results_file):
        click.echo(path)


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--threshold", type=float, default=None,
              help="How far apart a noisy figure's medians must be to count, in percent: the larger of new/old "
                   "and old/new, less 1 (default 175; exact figures count at any change).")
@click.option("--out", type=click.Path(path_type=Path), help="Also write comparison.md into this folder.")
def compare(old: Path, new: Path, threshold: float | None, out: Path | None) -> None:
    """Which figures changed between two runs, beyond the noise; exit 1 on a regression (docs/compare.md)."""
    from bench.compare import DEFAULT_THRESHOLD_PCT, compare_runs
    from bench.results import load

    comparison = compare_runs(load(old), load(new),
                              threshold_pct=DEFAULT_THRESHOLD_PCT if threshold is None else threshold)
    for line in comparison.lines():
        click.echo(line)
    if out is not None:
        _check_writable(out)
        click.echo(comparison.write(out))
    sys.exit(comparison.exit_code)


@cli.command(name="list")
def list_() -> None:
    """List plans, scenarios (with their variants), servers and modes."""
    from bench.servers import SERVERS
    from scenarios import SCENARIOS

    click.echo("plans:")
    for name, description in PLANS.items():
        click.echo(f"  {name:<20} {description}")
    click.echo("scenarios:")
    for scenario in SCENARIOS.values():
        click.echo(f"  {scenario.name:<20} {scenario.description} (variants: {', '.join(scenario.variants)})")
        for (mode, variant), reason in scenario.excluded.items():
            click.echo(f"  {'':<20} left out: {mode} with variant {variant} ({reason})")
    click.echo("servers:")
    for server in SERVERS.values():
        click.echo(f"  {server.name:<20} {server.description}")
    click.echo("modes:")
    for mode in MODES.values():
        named = "" if mode.in_default_plan else " (runs where --mode names it)"
        click.echo(f"  {mode.name:<20} {mode.description}{named}")


@cli.command()
@click.option("--run", "run_id", metavar="RUN_ID", help="Only the containers of this run.")
def clean(run_id: str | None) -> None:
    """Remove every container labelled mailbench (leftovers of interrupted runs)."""
    from bench.servers import clean as remove
    from bench.servers.docker_client import connect

    removed = remove(connect(), run_id=run_id)
    click.echo(f"removed {len(removed)} container(s) labelled mailbench")


@cli.command()
def doctor() -> None:
    """Check Docker, the base image path, the images and leftovers."""
    from bench.servers.base import LABEL
    from bench.servers.docker_client import connect
    from bench.servers.images import describe_base_path

    client = connect()
    version = client.version()
    click.echo(f"docker: reachable, server {version.get('Version')} (API {version.get('ApiVersion')})")
    click.echo(f"base image: {describe_base_path(client)}")
    images = sorted(tag for image in client.images.list() for tag in image.tags if tag.startswith("mailbench/"))
    click.echo(f"images: {', '.join(images) if images else 'none built yet (the first run builds them)'}")
    leftovers = client.containers.list(all=True, filters={"label": LABEL})
    click.echo(f"containers labelled mailbench: {len(leftovers)}" + (" (run `mailbench clean`)" if leftovers else ""))


def _fail(message: str, code: int = 2) -> NoReturn:
    stderr.print(f"mailbench: error: {message}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(code)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point: click without its multi-line usage errors, our errors as one line."""
    signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill` cleans up like Ctrl-C does
    try:
        cli.main(args=argv, prog_name="mailbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        command = f" {exc.ctx.info_name}" if getattr(exc, "ctx", None) and exc.ctx.parent else ""
        _fail(f"{exc.format_message()} (see `mailbench{command} --help`)")
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail("interrupted", 130)
    except UsageError as exc:
        _fail(str(exc))
    except MailbenchError as exc:
        _fail(str(exc).splitlines()[0], 1)


if __name__ == "__main__":
    main()
