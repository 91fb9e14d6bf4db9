"""Run by the SAM CLI's virtualenv (see samcli.py): parse ``sam deploy`` arguments read as JSON from stdin.

Prints the options as ``sam deploy`` parses them (its click command, samconfig.toml
included) and the parameters it would send to CreateChangeSet for the template.
"""

import json
import sys

from samcli.commands.deploy.command import cli
from samcli.commands.deploy.deploy_context import DeployContext
from samcli.yamlhelper import yaml_parse


def main() -> None:
    context = cli.make_context("deploy", json.load(sys.stdin))
    options = context.params
    with open(options["template_file"]) as file:
        template = yaml_parse(file.read())
    parameters = DeployContext.merge_parameters(template, options["parameter_overrides"])
    print(json.dumps({"options": options, "changeset_parameters": parameters}, default=str))


if __name__ == "__main__":
    main()
