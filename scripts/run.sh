#!/usr/bin/env bash
# Start the action server, wait until it answers, then the assistant; stop both on exit.
#   scripts/run.sh shell   -> rasa shell in this terminal
#   scripts/run.sh server  -> Rasa HTTP server on :5005 (REST channel), for web/channels
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-shell}
VENV=.venv
ACTIONS_PORT=${ACTIONS_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
mkdir -p var

"$VENV/bin/rasa" run actions --actions actions --port "$ACTIONS_PORT" > var/actions.log 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true; wait $actions_pid 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://localhost:$ACTIONS_PORT/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 $actions_pid 2>/dev/null; then
    echo "the action server did not start; see var/actions.log" >&2; exit 1
  fi
  sleep 0.5
done
echo "action server up on :$ACTIONS_PORT (log: var/actions.log)"

case "$mode" in
  shell)
    "$VENV/bin/rasa" shell --model models/current.tar.gz --endpoints endpoints.yml ;;
  server)
    "$VENV/bin/rasa" run --model models/current.tar.gz --endpoints endpoints.yml \
      --credentials credentials.yml --port "$RASA_PORT" --enable-api ;;
  *) echo "usage: $0 [shell|server]" >&2; exit 2 ;;
esac
