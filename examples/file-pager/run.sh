#!/usr/bin/env bash
# Runs the file pager (examples/file-pager): an XP pager built only on machxp's pager library.
# Builds its jar first if there is none (mvn package of this module and what it needs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/file-pager.jar"
if [[ ! -f "$jar" ]]; then
  (cd "$here/../.." && mvn -B -q -DskipTests -pl examples/file-pager -am package) >&2
fi
exec java -jar "$jar" "$@"
