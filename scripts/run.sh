#!/usr/bin/env bash
# Start the action server, wait until it answers, then the assistant; stop everything on exit.
#   scripts/run.sh web    -> Rasa server on :5005 (REST, socket.io, platforms) + chat page on :8080
#   scripts/run.sh shell  -> rasa shell in this terminal
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-web}
VENV=.venv
ACTIONS_PORT=${ACTIONS_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
WEB_PORT=${WEB_PORT:-8080}
# The secret only the Rasa server and the action server share (SECURITY.md): this checkout's
# own, from var/secrets.env (created on first use), unless ACTION_SERVER_TOKEN is set;
# endpoints.yml sends it, actions.server refuses calls without it. Channels read their
# settings from the environment themselves (credentials.yml, channels/common.py).
source scripts/local-env.sh "$PWD"
# The demo page's sign-in ("Sign in as Alex Buyer (demo)"): the page server signs the buyer's
# identity and the action server verifies it with this secret. A fresh one per run unless
# given, so the demo works out of the box; a shop sets its own (SECURITY.md).
if [ -z "${CUSTOMER_IDENTITY_SECRET:-}" ]; then
  CUSTOMER_IDENTITY_SECRET=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))')
fi
export CUSTOMER_IDENTITY_SECRET
# The agent console (web mode, console/ on :$CONSOLE_PORT): the bot hands conversations to its
# queue (HANDOFF_QUEUE), the console reaches Rasa's HTTP API with a per-run token, and a demo
# agent with a per-run password signs in unless SUPPORT_AGENTS names the team's (README,
# "The agent console"). The terminal chat cannot receive an agent's reply: no queue there.
CONSOLE_PORT=${CONSOLE_PORT:-8090}
new_secret() { "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(36))'; }
if [ "$mode" = web ]; then
  export HANDOFF_QUEUE=${HANDOFF_QUEUE:-on}
  export RASA_API_TOKEN=${RASA_API_TOKEN:-$(new_secret)}
  export CONSOLE_SESSION_SECRET=${CONSOLE_SESSION_SECRET:-$(new_secret)}
  if [ -z "${SUPPORT_AGENTS:-}" ]; then
    DEMO_AGENT_PASSWORD=$(new_secret | cut -c1-16)
    SUPPORT_AGENTS=$(printf '%s' "$DEMO_AGENT_PASSWORD" | "$VENV/bin/python" -m console.accounts add agent "Demo Agent" --password-stdin)
  fi
  export SUPPORT_AGENTS
fi
mkdir -p var
ENDPOINTS=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then  # endpoints.yml names the standard port
  ENDPOINTS=var/endpoints.yml
  sed "s#localhost:5055#localhost:$ACTIONS_PORT#" endpoints.yml > "$ENDPOINTS"
fi
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() {  # url pid log
  for _ in $(seq 1 240); do
    if curl -fsS "$1" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then echo "failed to start; see $3" >&2; tail -20 "$3" >&2; exit 1; fi
    sleep 0.5
  done
  echo "timed out waiting for $1; see $3" >&2; exit 1
}

"$VENV/bin/python" -m actions.server --port "$ACTIONS_PORT" > var/actions.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$ACTIONS_PORT/health" "${pids[-1]}" var/actions.log
echo "action server up on :$ACTIONS_PORT (log: var/actions.log)"

case "$mode" in
  shell)
    "$VENV/bin/rasa" shell --model models/current.tar.gz --endpoints "$ENDPOINTS" ;;
  web)
    "$VENV/bin/rasa" run --model models/current.tar.gz --endpoints "$ENDPOINTS" \
      --credentials credentials.yml --port "$RASA_PORT" --enable-api --auth-token "$RASA_API_TOKEN" \
      --cors "http://localhost:$WEB_PORT" --cors "http://127.0.0.1:$WEB_PORT" > var/rasa.log 2>&1 &
    pids+=($!)
    wait_for "http://localhost:$RASA_PORT/" "${pids[-1]}" var/rasa.log
    echo "Rasa server up on :$RASA_PORT (log: var/rasa.log)"
    "$VENV/bin/python" -m console.server --port "$CONSOLE_PORT" --rasa-url "http://localhost:$RASA_PORT" \
      > var/console.log 2>&1 &
    pids+=($!)
    wait_for "http://localhost:$CONSOLE_PORT/health" "${pids[-1]}" var/console.log
    if [ -n "${DEMO_AGENT_PASSWORD:-}" ]; then
      echo "Agent console on http://localhost:$CONSOLE_PORT: sign in as agent / $DEMO_AGENT_PASSWORD (this run only)"
    else
      echo "Agent console on http://localhost:$CONSOLE_PORT (agents from SUPPORT_AGENTS)"
    fi
    "$VENV/bin/python" scripts/serve_web.py --port "$WEB_PORT" --rasa-url "http://localhost:$RASA_PORT" &
    pids+=($!)
    echo "Open http://localhost:$WEB_PORT to chat. For a terminal chat: make shell. Ctrl-C stops all."
    wait "${pids[-1]}" ;;
  *) echo "usage: $0 [web|shell]" >&2; exit 2 ;;
esac
