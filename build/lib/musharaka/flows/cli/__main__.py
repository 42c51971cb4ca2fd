"""`python -m musharaka.flows.cli`: the same as the `musharaka` command."""

from musharaka.flows.cli.main import run

run()
