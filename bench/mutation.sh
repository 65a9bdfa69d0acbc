#!/bin/sh
# Mutation testing of the trust-critical modules, each against the tests that cover it; prints a table
# (module, mutants, killed, %) and writes each module's surviving mutants next to its scratch copy.
# Not run in CI (minutes per module). See docs/testing.md.
#   bench/mutation.sh                  every module
#   bench/mutation.sh checks undo      some: checks undo polling lookup outbox announcer parsing validation limits importers-common
set -e
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" bench/mutation.py "$@"
