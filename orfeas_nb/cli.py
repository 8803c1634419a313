"""The ``orfeas`` command line. Exit codes: 0 ok, 2 bad input, 3 model unavailable, 4 out of resources, 1 other."""

from __future__ import annotations

import functools
import math
import os
import sys
import traceback
from collections import Counter
from pathlib import Path

import click

from . import __version__, config
from .errors import OrfeasError


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


class OrfeasGroup(click.Group):
    """A click group that turns errors into one line on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OrfeasError as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
            if os.environ.get("ORFEAS_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"unexpected error: {type(exc).__name__}: {_one_line(exc)} (set ORFEAS_DEBUG=1 for the traceback)",
                err=True,
            )
            ctx.exit(1)


class CatalogueChoice(click.ParamType):
    """A method or style name, checked against the catalogue: an unknown one is a one-line error (exit 2)."""

    name = "choice"

    def __init__(self, kind: str):
        self.kind = kind  # "methods", "styles" or "printers"

    @property
    def choices(self) -> tuple[str, ...]:
        """The names the catalogue lists (read when needed, not at import)."""
        from .catalogue import catalogue

        return tuple(getattr(catalogue(), self.kind))

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return f"[{'|'.join(self.choices)}]"

    def convert(self, value, param, ctx):
        from .catalogue import catalogue

        cat = catalogue()
        return {"methods": cat.method, "styles": cat.style, "printers": cat.printer}[self.kind](value).name


class CatalogueHelpOption(click.Option):
    """An option whose help text is built from the catalogue when it is shown, so importing the CLI stays light."""

    def __init__(self, *args, help_from, **kwargs):
        super().__init__(*args, **kwargs)
        self.help_from = help_from

    def get_help_record(self, ctx: click.Context):
        self.help = self.help_from()
        return super().get_help_record(ctx)


def _help(**texts):
    """``click.option`` keywords for a help text made by ``help_from()`` when shown."""
    return {"cls": CatalogueHelpOption, **texts}


def _range(option) -> str:
    unit = f" {option.unit}" if option.unit else ""
    return f"{option.low}–{option.high}{unit}"


def _formats_help() -> str:
    from .catalogue import catalogue

    return f"output file; the suffix picks the format ({', '.join(catalogue().formats)})"


def _quality_help() -> str:
    from .options import QUALITY

    return f"detail, {_range(QUALITY)}"


def _printer_help() -> str:
    from .catalogue import catalogue

    listed = "; ".join(f"{p.name}: {p.summary}" for p in catalogue().printers.values())
    return f"the printer the model is made for (weight-free methods; default fdm) — {listed}"


_printer_option = click.option("--printer", type=CatalogueChoice("printers"), default=None, **_help(help_from=_printer_help))


def _generation_help(name: str) -> str:
    from .catalogue import catalogue

    option = catalogue().generation_option(name)
    return f"{option.doc}; {_range(option)}"


def _text_to_3d_steps_help() -> str:
    from .catalogue import catalogue

    cat = catalogue()
    own = ", ".join(f"{m.name} {_range(m.option('steps'))}" for m in cat.methods.values() if m.reads_prompt)
    return f"sampling steps (default: per model): {own}; other methods' text→image {_range(cat.generation_option('steps'))}"


def _server_options(command):
    """Add ``--server URL`` and ``--token`` to a generation command; :func:`_generator` reads them."""

    @functools.wraps(command)
    def run(*args, server: str | None, token: str | None, **kwargs):
        if token is not None and server is None:
            raise click.UsageError("--token goes with --server URL (the orfeas server to run on)")
        click.get_current_context().meta["orfeas_server"] = (server, token)
        return command(*args, **kwargs)

    options = [
        click.Option(["--token"], default=None, help="the server's token [default: $ORFEAS_TOKEN, or ?token= in URL]"),
        click.Option(["--server"], default=None, metavar="URL",
                     help="run on this orfeas server (a Jupyter server's URL, e.g. from `orfeas serve`)"),
    ]
    run.__click_params__ = [*options, *getattr(command, "__click_params__", [])]  # listed last in --help
    return run


def _generator():
    """Where the current command generates: this process (:mod:`orfeas_nb.api`), or a client of --server."""
    ctx = click.get_current_context()
    server, token = ctx.meta.get("orfeas_server", (None, None))
    if server is None:
        from . import api

        return api
    from .client import connect

    client = connect(server, token)
    ctx.call_on_close(client.close)
    return client


@click.group(cls=OrfeasGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orfeas")
def cli() -> None:
    """orfeas: turn pictures and prompts into printable 3D models."""


@cli.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder (default: $ORFEAS_OUTPUT_DIR/demo)")
@click.option("--quality", type=int, default=6, show_default=True, **_help(help_from=_quality_help))
def demo(out: Path | None, quality: int) -> None:
    """Turn the bundled sample images into printable models with every weight-free method."""
    from .demo import run_demo, summary_table

    out = out or config.output_dir() / "demo"
    results = run_demo(out, quality=quality)
    for result in results:
        click.echo(f"wrote {result.path}")
    click.echo(f"wrote {out / 'summary.json'}")
    click.echo("")
    click.echo(summary_table(results))


@cli.command("image-to-3d")
@_server_options
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              **_help(help_from=_formats_help))
@click.option("--method", type=CatalogueChoice("methods"), default="relief", show_default=True,
              help="image→3D method (see `orfeas methods`)")
@click.option("--quality", type=int, default=7, show_default=True, **_help(help_from=_quality_help))
@click.option("--size-mm", type=float, default=100.0, show_default=True, help="longest side in millimetres")
@_printer_option
@click.option("-O", "--option", "options", multiple=True, metavar="NAME=VALUE", help="a method option, repeatable")
def image_to_3d_command(image: Path, out: Path, method: str, quality: int, size_mm: float, printer: str | None,
                        options: tuple[str, ...]) -> None:
    """Turn IMAGE into a printable 3D model written to OUT."""
    image_to_3d = _generator().image_to_3d
    from .files import check_output
    from .mesh.export import format_for
    from .mesh.options import parse_option_texts
    from .model import manifest_path

    format_for(out)  # reject an unknown suffix before any work
    check_output(out, sidecars=[manifest_path(out)], inputs=[image])
    parsed = parse_option_texts([*options, *([f"printer={printer}"] if printer is not None else [])])
    model = image_to_3d(image, method=method, quality=quality, size_mm=size_mm, **parsed)
    path = model.export(out)
    report = model.report()
    click.echo(f"wrote {path} ({report.triangles:,} triangles, watertight: {'yes' if report.watertight else 'NO'})")


def _check_png(out: Path) -> None:
    from .picture import check_png_output

    check_png_output(out)


_model_option = click.option("--model", default=None, metavar="ID|DIR", help="hub id or save_pretrained folder")
_seed_option = click.option("--seed", type=int, default=None, **_help(help_from=lambda: _generation_help("seed")))
_style_option = click.option("--style", type=CatalogueChoice("styles"), default="realistic", show_default=True,
                             help="text→image style preset")


@cli.command("text-to-image")
@_server_options
@click.argument("prompt")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="output .png")
@_model_option
@_style_option
@_seed_option
@click.option("--steps", type=int, default=None, **_help(help_from=lambda: _generation_help("steps")))
@click.option("--width", type=int, default=None, **_help(help_from=lambda: _generation_help("width")))
@click.option("--height", type=int, default=None, **_help(help_from=lambda: _generation_help("height")))
@click.option("--negative-prompt", default=None, help="what to avoid (default: the style's)")
def text_to_image_command(prompt: str, out: Path, model: str | None, style: str, seed: int | None, steps: int | None,
                          width: int | None, height: int | None, negative_prompt: str | None) -> None:
    """Generate a picture from PROMPT with a text→image model and write it to OUT (.png)."""
    text_to_image = _generator().text_to_image

    _check_png(out)
    image = text_to_image(prompt, model=model, style=style, seed=seed, steps=steps, width=width, height=height,
                          negative_prompt=negative_prompt)
    from .picture import save_png

    save_png(image, out)
    click.echo(f"wrote {out} ({image.width}×{image.height}, seed {image.info['orfeas']['seed']})")


@cli.command("text-to-3d")
@_server_options
@click.argument("prompt")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              **_help(help_from=_formats_help))
@click.option("--method", type=CatalogueChoice("methods"), default="shap-e", show_default=True,
              help="shap-e, or any image→3D method (via text→image)")
@click.option("--quality", type=int, default=7, show_default=True, **_help(help_from=_quality_help))
@click.option("--size-mm", type=float, default=100.0, show_default=True, help="longest side in millimetres")
@_model_option
@click.option("--image-model", default=None, metavar="ID|DIR", help="text→image model when --method is not shap-e")
@click.option("--depth-model", default=None, metavar="ID|DIR", help="depth model when --method is depth")
@_style_option
@_seed_option
@click.option("--steps", type=int, default=None, **_help(help_from=_text_to_3d_steps_help))
@_printer_option
@click.option("-O", "--option", "options", multiple=True, metavar="NAME=VALUE", help="a method option, repeatable")
def text_to_3d_command(prompt: str, out: Path, method: str, quality: int, size_mm: float, model: str | None,
                       image_model: str | None, depth_model: str | None, style: str, seed: int | None,
                       steps: int | None, printer: str | None, options: tuple[str, ...]) -> None:
    """Turn PROMPT into a printable 3D model written to OUT."""
    text_to_3d = _generator().text_to_3d
    from .files import check_output
    from .mesh.export import format_for
    from .mesh.options import parse_option_texts
    from .model import manifest_path

    format_for(out)  # reject an unknown suffix before any work
    check_output(out, sidecars=[manifest_path(out)])
    parsed = parse_option_texts([*options, *([f"printer={printer}"] if printer is not None else [])])
    run = {key: value for key, value in (("model", model), ("seed", seed), ("steps", steps)) if value is not None}
    result = text_to_3d(prompt, method=method, quality=quality, size_mm=size_mm, style=style, image_model=image_model,
                        depth_model=depth_model, **run, **parsed)
    path = result.export(out)
    report = result.report()
    watertight = "yes" if report.watertight else "NO"
    click.echo(f"wrote {path} ({report.triangles:,} triangles, watertight: {watertight}, seed {result.manifest['seed']})")


@cli.command("reproduce")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="write the rebuilt model or picture (and its manifest) here")
@click.option("--input", "input_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="the input picture, when it is no longer at the path the manifest records")
@click.pass_context
def reproduce_command(ctx: click.Context, manifest: Path, out: Path | None, input_path: Path | None) -> None:
    """Rebuild what MANIFEST describes; exit 0 when identical, 1 (saying what differs) when not."""
    from .reproduction import reproduce

    result = reproduce(manifest, out, input=input_path)
    click.echo(result.summary())
    if not result.identical:
        ctx.exit(1)


@cli.command("methods")
def methods_command() -> None:
    """List the image→3D methods and their options."""
    from .catalogue import TEXT_TO_3D, catalogue

    for method in catalogue().methods.values():
        click.echo(f"{method.name}: {method.summary}")
        from_prompt = {opt.name: opt.default for opt in method.options_for(TEXT_TO_3D)}
        for opt in (*method.options, *method.run_options):
            rng = f" [{opt.low}–{opt.high}]" if opt.low is not None else ""
            rng = f" [{'|'.join(opt.choices)}]" if opt.choices else rng
            default = "random" if opt.default is None else opt.default
            prompt = from_prompt.get(opt.name, opt.default)
            note = f" (from a prompt: {prompt})" if prompt != opt.default else ""
            click.echo(f"    {opt.name}={default}{rng}  {opt.doc}{note}")


@cli.command()
def doctor() -> None:
    """Print versions, the compute device and the settings in force."""
    from .doctor import sections

    for title, rows in sections():
        click.echo(f"{title}:")
        for key, value in rows:
            click.echo(f"  {key}: {value}")


@cli.command("metrics")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="port to listen on [default: $ORFEAS_METRICS_PORT or 9108; 0 picks a free one]")
@click.option("--addr", default="127.0.0.1", show_default=True,
              help="address to listen on; the endpoint has no login, so keep it on loopback behind a firewall")
def metrics_command(port: int | None, addr: str) -> None:
    """Serve Prometheus metrics at http://ADDR:PORT/metrics until Ctrl-C.

    With PROMETHEUS_MULTIPROC_DIR set, the sum over every process writing there (e.g. batch workers).
    """
    from .monitoring.exposition import serve, wait_until_interrupted

    server = serve(port, addr=addr)
    click.echo(f"serving metrics at {server.url} (Ctrl-C to stop)")
    try:
        wait_until_interrupted()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.stop()


def _positive_seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value} is not a finite number of seconds above 0")
    return value


@cli.command("batch")
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--params", "params", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="YAML or JSON: 'grid' (every combination), 'runs' (a list), optional 'common'")
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for one sub-folder per run and summary.csv/summary.json")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="local Dask worker processes [default: 2]")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://127.0.0.1:8786")
@click.option("--timeout", type=float, default=None, metavar="SECONDS", callback=_positive_seconds,
              help="stop a run (and kill its kernel) after this long [default: $ORFEAS_BATCH_RUN_TIMEOUT or 3600]")
@click.option("--rerun", is_flag=True, help="run every parameter set again, even those that finished before")
@click.pass_context
def batch_command(
    ctx: click.Context, notebook: Path, params: Path, out: Path, workers: int | None, scheduler: str | None,
    timeout: float | None, rerun: bool,
) -> None:
    """Run NOTEBOOK once per parameter set in FILE, each a papermill run in a Dask task.

    Exit code 1 if any run failed. Running the same command again reuses the runs that finished with
    the same notebook, parameters and orfeas_nb version, and runs the others.
    """
    from .batch import run

    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers (a local cluster) or --scheduler (an existing one), not both")
    try:
        result = run(notebook, params, out, workers=workers or 2, scheduler=scheduler, timeout=timeout, rerun=rerun)
    except KeyboardInterrupt:
        click.echo(f"interrupted: finished runs in {out} are kept; run the same command again to do the rest", err=True)
        ctx.exit(130)
    for record in result.failed:
        error = record["error"]
        where = "" if error["cell_index"] is None else f" in cell {error['cell_index']}"
        click.echo(f"failed {record['run']}{where}: {error['ename']}: {_one_line(error['evalue'])}", err=True)
    reasons = Counter(record["rerun_reason"] for record in result.redone)
    for reason, count in sorted(reasons.items()):
        click.echo(f"ran again: {count} run{'s' if count > 1 else ''} that had run before ({reason})")
    click.echo(
        f"{len(result.runs)} runs: {len(result.runs) - len(result.failed)} ok ({len(result.reused)} reused), "
        f"{len(result.failed)} failed; summary in {result.summary_csv} and {result.summary_json}"
    )
    if result.failed:
        ctx.exit(1)


_UI_EXTENSIONS = ("jupyterlab", "jupyter_lsp", "notebook", "notebook_shim", "nbclassic", "jupyter_server_terminals")


@cli.command("serve", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--ip", default="127.0.0.1", show_default=True, help="address to listen on (keep loopback unless "
              "a firewall or proxy guards it)")
@click.option("--port", type=click.IntRange(0, 65535), default=8888, show_default=True, help="port; 0 picks a free one")
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED, metavar="[JUPYTER OPTIONS]...")
def serve_command(ip: str, port: int, jupyter_args: tuple[str, ...]) -> None:
    """Serve the orfeas HTTP API from a headless Jupyter server (no JupyterLab) until Ctrl-C.

    Jupyter prints the URL with its token; orfeas_nb.connect(URL) and --server URL take it as it is.
    Further options go to Jupyter, e.g. --IdentityProvider.token=... or --ServerApp.root_dir=...
    """
    from jupyter_server.serverapp import ServerApp

    extensions = {"orfeas_nb.server": True, **{name: False for name in _UI_EXTENSIONS}}
    app = ServerApp.instance()
    app.initialize([f"--ServerApp.ip={ip}", f"--ServerApp.port={port}", "--ServerApp.open_browser=False",
                    f"--ServerApp.jpserver_extensions={extensions!r}", *jupyter_args])
    click.echo(f"orfeas HTTP API at {app.connection_url}orfeas/ (health, upload-image, text-to-image, generate-3d, "
               "jobs); pass the URL with its token, printed below, to orfeas_nb.connect() or --server")
    app.start()


def main() -> None:  # pragma: no cover - the console-script entry point
    """Entry point of the ``orfeas`` console script."""
    sys.exit(cli.main(prog_name="orfeas"))
