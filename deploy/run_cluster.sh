#!/usr/bin/env bash
# Run N app processes behind nginx on one machine: bash deploy/run_cluster.sh [N] [PORT]
# The processes share the persistent JAX compilation cache and the on-disk result cache
# ($ERROR_SURFACE_LAB_CACHE, default ~/.cache/error-surface-lab/jax, and its results/ folder),
# so a configuration computed by one is read by the others. Needs Debian's nginx
# (apt-get install nginx). Ctrl-C stops everything. Prints one line per process: "app PID PORT".
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2}
PORT=${2:-8080}
BASE=${APP_BASE_PORT:-8601}
PY=${PYTHON:-.venv/bin/python}
RUN=$(mktemp -d /tmp/lab-cluster.XXXXXX)
export ERROR_SURFACE_LAB_CACHE=${ERROR_SURFACE_LAB_CACHE:-$HOME/.cache/error-surface-lab/jax}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; nginx -c "$RUN/nginx.conf" -s quit 2>/dev/null || true; }
trap cleanup EXIT INT TERM
servers=""
for ((i = 0; i < N; i++)); do
  p=$((BASE + i))
  "$PY" -m streamlit run app.py --server.headless true --server.port "$p" --server.address 127.0.0.1 \
    --browser.gatherUsageStats false --server.fileWatcherType none > "$RUN/app$p.log" 2>&1 &
  pids+=($!)
  echo "app $! $p"
  servers+="        server 127.0.0.1:$p;"$'\n'
done
for ((i = 0; i < N; i++)); do
  until curl -fs "http://127.0.0.1:$((BASE + i))/_stcore/health" > /dev/null; do sleep 0.3; done
done
sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$PORT#g" deploy/nginx.conf.template | \
  awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' > "$RUN/nginx.conf"
nginx -c "$RUN/nginx.conf"
echo "ready: http://127.0.0.1:$PORT  ($N processes; logs in $RUN)"
wait "${pids[0]}"
