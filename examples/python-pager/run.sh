#!/usr/bin/env sh
# Runs the Python pager with the virtual environment that setup.sh made (made here if missing).
# Every argument goes to the pager: examples/python-pager/run.sh --port 7090 --store DIR ...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=$here/../../target/python-pager-venv/bin/python
[ -x "$python" ] || python=$("$here/setup.sh")
PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH} exec "$python" -m pypager "$@"
