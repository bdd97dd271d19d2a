"""``muster-costs connections list|add|template``: the customer roles Muster reads Cost Explorer through."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from shared.cli.output import add_json_flag, console, emit, print_json, print_mapping
from shared.services.connections import add_connection, connection_as_dict, connection_template, list_connections

DEPLOY_HINT = (
    "Deploy this template in the account of the role (CloudFormation, any region), "
    "then link agents with `muster-costs agents set AGENT --cloud-connection {id} --cloud-service AmazonBedrock`."
)


def _list(args: argparse.Namespace) -> int:
    connections = list_connections()
    rows = [
        [
            c.connection_id,
            c.name,
            c.role_arn,
            c.tag_key or "",
            c.status.value,
            c.last_success_at.isoformat(timespec="seconds") if c.last_success_at else "",
            c.last_error or "",
        ]
        for c in connections
    ]
    emit(
        args.json,
        [connection_as_dict(c) for c in connections],
        "cloud connections",
        ["id", "name", "role ARN", "tag key", "status", "last success", "last error"],
        rows,
    )
    return 0


def _write_template(path: str | None, template: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")


def _add(args: argparse.Namespace) -> int:
    created = add_connection(args.name, args.role_arn, args.tag_key)
    _write_template(args.template_out, created.template)
    connection = created.connection
    if args.json:
        print_json({**connection_as_dict(connection), "template": created.template})
        return 0
    print_mapping(
        False,
        "new cloud connection",
        {
            "connection id": connection.connection_id,
            "external id": connection.external_id,
            "role ARN": connection.role_arn,
            "tag key": connection.tag_key,
        },
    )
    _print_template(created.template, connection.connection_id, args.template_out)
    return 0


def _template(args: argparse.Namespace) -> int:
    template = connection_template(args.connection_id)
    _write_template(args.template_out, template)
    if args.json:
        print_json(template)
    else:
        _print_template(template, args.connection_id, args.template_out)
    return 0


def _print_template(template: dict[str, Any], connection_id: str, written_to: str | None) -> None:
    console.print(DEPLOY_HINT.format(id=connection_id), markup=False, highlight=False)
    if written_to:
        console.print(f"role template written to {written_to}", markup=False, highlight=False)
    else:
        print_json(template)


def register(commands: Any) -> None:
    parser = commands.add_parser("connections", help="cloud connections (customer roles for Cost Explorer)")
    sub = parser.add_subparsers(dest="connections_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="list cloud connections and their last run")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    adding = sub.add_parser(
        "add", help="add a connection; prints its id, its external id and the role template to deploy"
    )
    adding.add_argument("--name", required=True, help="a name for people (e.g. the account's purpose)")
    adding.add_argument(
        "--role-arn", required=True, help="arn:aws:iam::<account>:role/<name>; the name must start with the prefix"
    )
    adding.add_argument("--tag-key", help="cost allocation tag key that tells agents apart (e.g. agent_id)")
    adding.add_argument("--template-out", metavar="FILE", help="also write the role template (JSON) to FILE")
    add_json_flag(adding)
    adding.set_defaults(handler=_add)

    template = sub.add_parser("template", help="print the role template of an existing connection again")
    template.add_argument("connection_id", metavar="CONNECTION_ID")
    template.add_argument("--template-out", metavar="FILE", help="write the template (JSON) to FILE")
    add_json_flag(template)
    template.set_defaults(handler=_template)
