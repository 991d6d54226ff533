# Sourced, not run: this checkout's own secrets, so that plain `rasa run`, `rasa shell`,
# `rasa run actions` and `python -m actions.server` share one ACTION_SERVER_TOKEN
# (endpoints.yml sends it, the action server requires it; SECURITY.md).
#   . scripts/local-env.sh [project-dir]
# The secrets live in var/secrets.env (NAME=value lines, mode 0600, not in git), created on
# first use with a fresh ACTION_SERVER_TOKEN; delete it to rotate. Each variable is exported
# unless the environment already has a non-empty value, which wins. `make setup` makes
# .venv/bin/activate source this file; scripts/run.sh sources it too.
# Written for bash and zsh (activate is sourced by either).

_local_env_root=${1:-}
if [ -z "$_local_env_root" ]; then
  _local_env_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
fi
_local_env_file="$_local_env_root/var/secrets.env"

if [ ! -f "$_local_env_file" ]; then
  _local_env_python="$_local_env_root/.venv/bin/python"
  [ -x "$_local_env_python" ] || _local_env_python=python3
  mkdir -p "$_local_env_root/var"
  _local_env_new="$_local_env_file.$$.new"
  if (umask 077 && {
    echo "# This checkout's secrets (scripts/local-env.sh): not in git, readable by you only."
    echo "# A variable set in the environment wins over its line here. Delete the file to rotate."
    printf 'ACTION_SERVER_TOKEN=%s\n' \
      "$("$_local_env_python" -c 'import secrets; print(secrets.token_urlsafe(36))')"
  } > "$_local_env_new") && grep -q '^ACTION_SERVER_TOKEN=.\{32,\}$' "$_local_env_new"; then
    # A hard link is created atomically and never replaces a file: of two shells starting at
    # once, one creates the file and both read the same secret.
    ln "$_local_env_new" "$_local_env_file" 2>/dev/null || true
  else
    echo "scripts/local-env.sh: could not create $_local_env_file" >&2
  fi
  rm -f "$_local_env_new"
fi

if [ -r "$_local_env_file" ]; then
  while IFS= read -r _local_env_line || [ -n "$_local_env_line" ]; do
    case "$_local_env_line" in '' | '#'*) continue ;; esac
    _local_env_name=${_local_env_line%%=*}
    case "$_local_env_name" in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
    eval "_local_env_current=\${$_local_env_name:-}"
    if [ -z "$_local_env_current" ]; then
      export "$_local_env_name=${_local_env_line#*=}"
    fi
  done < "$_local_env_file"
fi

unset _local_env_root _local_env_file _local_env_python _local_env_new _local_env_line \
  _local_env_name _local_env_current
true
