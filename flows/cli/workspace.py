"""`musharaka init`: a workspace of one's own — the sample plans, the state folder, the documents folder.

A workspace is where a ministry's files live: its plans, its database, its documents and keys. It is
`MUSHARAKA_HOME`, else the folder a command runs in, and never the installed code, which is only read.
"""

import shutil
from pathlib import Path

import click

from musharaka.state.files import owner_only_folder
from musharaka.state.settings import get_settings, package_folder


def copy_sample_plans(target: Path) -> None:
    """The shipped sample plans (the ministry's 2025 programme) copied into `target`, which must not exist."""
    # the package's own module files are not plans
    shutil.copytree(package_folder("musharaka.plans"), target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))


def lay_out(home: Path) -> list[str]:
    """Make `home` a workspace: what is missing is added, nothing there is changed; what was done."""
    done = []
    plans = home / "plans"
    if plans.exists():
        done.append(f"kept {plans} as it is")
    else:
        copy_sample_plans(plans)
        done.append(f"copied the sample plans into {plans}")
    deployments = home / "prefect.yaml"
    if not deployments.exists():
        shutil.copyfile(package_folder("musharaka.templates") / "prefect.yaml", deployments)
        done.append(f"wrote the Prefect deployments to {deployments}")
    for folder in (home / "var", home / "out"):
        if not folder.exists():
            if folder.name == "var":  # the state and its keys: the owner's alone
                owner_only_folder(folder)
            else:
                folder.mkdir(parents=True)
            done.append(f"made {folder}")
    return done


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path | None) -> None:
    """Lay out a workspace: the sample plans, var/ for the state, out/ for documents.

    DIRECTORY defaults to the workspace (MUSHARAKA_HOME, else the current folder). What is already
    there is kept.

    Example: musharaka init ~/moheri && cd ~/moheri && musharaka validate
    """
    home = (directory or get_settings().home).absolute()
    for line in lay_out(home):
        click.echo(line)
    hint = "" if home == get_settings().home else f"cd {home} (or export MUSHARAKA_HOME={home}), then "
    click.echo(f"workspace ready: {hint}musharaka validate; musharaka demo")


COMMANDS = {"init": init}
