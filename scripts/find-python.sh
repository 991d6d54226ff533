#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8–3.10, not 3.11).
# Order: $PYTHON, pyenv's version from .python-version, python3.10 on PATH, pyenv's folders.
set -u
wanted="3.10"
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
if command -v pyenv >/dev/null 2>&1; then
  prefix=$(pyenv prefix "$(cat "$(dirname "$0")/../.python-version" 2>/dev/null)" 2>/dev/null) \
    && candidates+=("$prefix/bin/python")
fi
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*; do
  [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
done
command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")
for python in "${candidates[@]}"; do
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ "$version" = "$wanted" ]; then
    echo "$python"
    exit 0
  fi
done
echo "error: Python $wanted not found. Rasa 3.6 needs Python 3.10: install it (e.g. 'pyenv install 3.10.13'," >&2
echo "       or Debian/Ubuntu 'apt-get install python3.10 python3.10-venv') or set PYTHON=/path/to/python3.10." >&2
exit 1
