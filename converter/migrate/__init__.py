"""`c2k migrate`: a compose project with its environments to a Kustomize layout to commit.

environments.py finds the environments (which compose files each one adds to the common ones)
and converts each; delta.py says what an environment changes from the base, as data any output
format can render; generators.py turns the Secrets and ConfigMaps made from files into
generators that read those files at build time; references.py finds the values compose took
from a dotenv file that kustomize can copy in at build time; layout.py writes the Kustomize files;
notes.py writes MIGRATION.md; charts.py writes `--format helm`'s chart and values-<env>.yaml;
cli.py is the command.
"""
