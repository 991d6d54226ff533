# Sourced by scripts that start Rasa: every ${VAR} named in credentials.yml is exported,
# empty when unset, because Rasa refuses to start on an undefined one. Unset = channel off.
for _var in $(grep -o '\${[A-Z0-9_]*}' "$(dirname "${BASH_SOURCE[0]}")/../credentials.yml" | tr -d '${}' | sort -u); do
  export "$_var=${!_var:-}"
done
export CALLBACK_URL=${CALLBACK_URL:-http://localhost:5034/bot}
unset _var
