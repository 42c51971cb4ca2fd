"""The long-running service (`musharaka serve`): Prefect kept warm, lifecycle runs on a worker thread,
the advance sweep, the API the CLI hands work to, and the file by which the CLI finds the service.

Only `runs` (and `api`, which uses it) imports Prefect, and only once `prefect_warm` has configured
it; `discovery` stays cheap enough for every CLI command to use.
"""
