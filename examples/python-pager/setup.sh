#!/usr/bin/env sh
# Creates the Python pager's virtual environment (default: target/python-pager-venv at the top of
# the checkout, which git ignores) and installs requirements.txt into it. A venv avoids both
# Debian's "externally managed" pip and any package of the system's Python. Prints the venv's
# python. Usage: examples/python-pager/setup.sh [VENV_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-$here/../../target/python-pager-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# --retries 0: a package index that cannot be reached is given up at once, not retried five
# times per package (pip then takes the pinned wheels from the indexes it can reach).
"$venv/bin/python" -m pip install --quiet --retries 0 -r "$here/requirements.txt" >&2
echo "$venv/bin/python"
