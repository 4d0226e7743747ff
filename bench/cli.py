"""The command line of the benchmarks."""

import argparse
import logging
from pathlib import Path

from traction_rec.emulator.generator import write_org


def _generate(args):
    counts = write_org(
        args.out, options=args.options, seed=args.seed, anchor_date=args.anchor_date
    )
    print(
        f"Wrote {counts['TREX1__Course_Option__c']} course options "
        f"({sum(counts.values())} records) to {args.out}."
    )
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m bench")
    commands = parser.add_subparsers(dest="command")

    generate = commands.add_parser("generate", help="write a local-org folder")
    generate.add_argument("--options", type=int, default=400)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--anchor-date", default=None, help="YYYY-MM-DD; default today")
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(handler=_generate)
    return parser


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return args.handler(args)
