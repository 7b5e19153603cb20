"""``d4py storm build``: write a workflow's Storm topology to a folder, to submit by hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from d4py import UsageError
from d4py.backend import BatchOptions
from d4py.inputs import run_input_from
from d4py.loader import load_workflow
from d4py.plan import build_plan
from d4py.plugins import get_plugin_manager
from d4py.runhooks import RunHooks
from d4py.runner import check_capabilities

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Fill in ``d4py storm``'s parser."""
    parser.description = "Build d4py workflows as Apache Storm topologies (run them with: d4py run -b storm)."
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="write WORKFLOW's Flux topology, resources folder and jar to DIR",
        description="Write WORKFLOW's Flux topology (DIR/topology.yaml), the resources its components run in "
        "(DIR/resources/) and the jar that ships them (DIR/topology.jar). Without a driver to collect them, "
        "the topology writes its outputs to the Storm worker log.",
    )
    build.add_argument("workflow", metavar="WORKFLOW", help="dotted module name or path to a .py file")
    build.add_argument("-o", "--output", metavar="DIR", required=True, help="the folder to write (new or empty)")
    build.add_argument("-a", "--attr", metavar="NAME", help="the graph (or a function returning it) in the module")
    build.add_argument("-n", "--processes", metavar="N", type=int, help="plan instance counts for N processes")
    given = build.add_mutually_exclusive_group()
    given.add_argument("-i", "--iterations", metavar="N", type=int, help="call each root PE N times")
    given.add_argument("-d", "--data", metavar="JSON", help='input as JSON: {"PEName": N or [inputs, ...]}')
    given.add_argument("-f", "--file", metavar="FILE", help="input as a JSON file (like -d)")
    build.add_argument("--name", metavar="NAME", help="the topology's name (default: d4py-WORKFLOW-RANDOM)")
    build.add_argument("--python", metavar="PYTHON", default="python3", help="the Python on Storm's supervisors")
    build.set_defaults(handler=build_command)


def build_command(args: argparse.Namespace) -> int:
    """Plan WORKFLOW as the storm backend would and write its topology folder."""
    from d4py_storm.backend import StormBackend, StormOptions, topology_config
    from d4py_storm.build import build_topology, topology_name
    from d4py_storm.codec import new_key
    from d4py_storm.submit import submit_command

    folder = Path(args.output)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"-o {folder}: not a new or empty folder; give one to write the topology in")
    if args.processes is not None and args.processes < 1:
        raise UsageError(f"-n {args.processes}: the process budget must be 1 or more")
    if args.iterations is not None and args.iterations < 0:
        raise UsageError(f"-i {args.iterations}: the number of iterations must be 0 or more")
    try:
        options = StormOptions(name=args.name)
    except ValueError as error:
        raise UsageError(str(error).replace("-o name", "--name")) from None
    graph = load_workflow(args.workflow, args.attr)
    run_input = run_input_from(args.iterations, args.data, args.file)
    plan = build_plan(graph, run_input, args.processes, fuse=StormBackend.fuses_chains)
    check_capabilities(StormBackend, plan)
    StormBackend(options).check(plan)
    workflow = args.workflow
    name = options.name or topology_name(Path(workflow).stem if workflow.endswith(".py") else workflow.split(".")[-1])
    hooks = RunHooks(get_plugin_manager())
    built = build_topology(
        plan,
        hooks,
        folder,
        name=name,
        python=args.python,
        batch=BatchOptions(),
        config=topology_config(options),
        key=new_key(),
    )
    print(f"wrote {built.topology}, {built.jar} and {built.folder / 'resources'} (topology {built.name})")
    command = submit_command("storm", built.jar, built.topology, "STORM_VERSION", None)
    print("install resources/requirements.txt on every supervisor, then submit with:\n  " + " ".join(command))
    print(f"stop it with: storm kill {built.name}")
    return 0
