#!/usr/bin/env bash
# Run the browser tests N times in a row (default 5) while two busy loops keep both cores
# of the machine busy, and stop at the first failure. The busy loops are stopped at exit.
#   bash tests/ui/under_load.sh [N] [pytest args...]
set -u
runs=${1:-5}
shift || true
python=${PYTHON:-.venv/bin/python}
burners=()
for _ in 1 2; do
  "$python" -c "while True: pass" &
  burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
  echo "== run $i of $runs (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$python" -m pytest -q -p no:cacheprovider tests/ui "$@" || { echo "run $i failed"; exit 1; }
done
echo "all $runs runs passed under load"
