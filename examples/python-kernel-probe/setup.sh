#!/usr/bin/env sh
# Makes (or reuses) the virtual environment of the Python pager example, which has what the probe
# needs (grpcio, grpcio-tools, protobuf, googleapis-common-protos): target/python-pager-venv at the
# top of the checkout. Prints the venv's python. Usage: examples/python-kernel-probe/setup.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../python-pager/setup.sh" "$@"
