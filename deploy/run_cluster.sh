#!/usr/bin/env bash
# Run N app processes behind nginx under supervisord: bash deploy/run_cluster.sh [N] [PORT]
# supervisord (pip: supervisor, in requirements-dev.txt) starts every app process and nginx, and restarts
# any of them that dies; the others keep serving meanwhile, and nginx sends new requests around a process
# that is down (passive health checks, deploy/nginx.conf.template). The processes share the persistent JAX
# compilation cache and the on-disk result cache ($ERROR_SURFACE_LAB_CACHE, default
# ~/.cache/error-surface-lab/jax, and its results/ folder), so a configuration computed by one is read by
# the others. Needs Debian's nginx (apt-get install nginx). Ctrl-C stops everything.
# Prints one line per process, "app PID PORT", then "ready: URL" and "control: supervisorctl -c CONF".
# For a server that must survive reboots, run the same supervisord.conf from systemd (docs/deployment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2}
PORT=${2:-8080}
BASE=${APP_BASE_PORT:-8601}
PY=${PYTHON:-.venv/bin/python}
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
RUN=${LAB_RUN_DIR:-$(mktemp -d /tmp/lab-cluster.XXXXXX)}
mkdir -p "$RUN"
export ERROR_SURFACE_LAB_CACHE=${ERROR_SURFACE_LAB_CACHE:-$HOME/.cache/error-surface-lab/jax}
# File descriptors: an idle student's connection holds about 4.3 in the app process and two in nginx.
HARD=$(ulimit -Hn)
NOFILE=${LAB_NOFILE:-65536}
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$NOFILE" ]; then NOFILE=$HARD; fi
servers=""
programs=""
for ((i = 0; i < N; i++)); do
  p=$((BASE + i))
  servers+="        server 127.0.0.1:$p max_fails=0;"$'\n'
  programs+="
[program:app$i]
command=$PY -m streamlit run app.py --server.headless true --server.port $p --server.address 127.0.0.1 --browser.gatherUsageStats false --server.fileWatcherType none
directory=$PWD
autorestart=true
startsecs=3
startretries=1000
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=$RUN/app$p.log
stdout_logfile_maxbytes=10MB
"
done
sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$PORT#g" -e "s#@NOFILE@#$NOFILE#g" \
    -e "s#@CONN_PER_CLIENT@#${LAB_CONN_PER_CLIENT:-64}#g" -e "s#@REQ_PER_CLIENT@#${LAB_REQ_PER_CLIENT:-20}#g" \
    deploy/nginx.conf.template | \
  awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' > "$RUN/nginx.conf"
cat > "$RUN/supervisord.conf" <<CONF
[supervisord]
nodaemon=true
logfile=$RUN/supervisord.log
pidfile=$RUN/supervisord.pid
childlogdir=$RUN
minfds=$NOFILE

[unix_http_server]
file=$RUN/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$RUN/supervisor.sock
$programs
[program:nginx]
command=$(command -v nginx) -c $RUN/nginx.conf -g "daemon off;"
autorestart=true
startsecs=1
startretries=1000
redirect_stderr=true
stdout_logfile=$RUN/nginx.out
CONF
SUPERVISORD=$(dirname "$PY")/supervisord
SUPERVISORCTL="$(dirname "$PY")/supervisorctl -c $RUN/supervisord.conf"
"$SUPERVISORD" -c "$RUN/supervisord.conf" &
supervisor=$!
cleanup() { kill -TERM "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for ((i = 0; i < N; i++)); do
  until curl -fs "http://127.0.0.1:$((BASE + i))/_stcore/health" > /dev/null; do
    kill -0 "$supervisor" 2>/dev/null || { echo "supervisord stopped; see $RUN/supervisord.log" >&2; exit 1; }
    sleep 0.3
  done
  echo "app $($SUPERVISORCTL pid "app$i") $((BASE + i))"
done
until curl -fs "http://127.0.0.1:$PORT/_stcore/health" > /dev/null; do sleep 0.3; done
echo "ready: http://127.0.0.1:$PORT  ($N processes under supervisord; logs in $RUN)"
echo "control: $SUPERVISORCTL"
wait "$supervisor"
