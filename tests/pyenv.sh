#!/usr/bin/env bash
# pyenv.sh -- create (once) the Python virtual environment the client tests
# use: the official `ollama` and `openai` packages from PyPI, in
# $MULLAMA_VENV (default ~/.cache/mullama-venv).  Prints the venv's python
# on stdout; exits 1 (with the reason on stderr) when it cannot be made.
set -u
venv=${MULLAMA_VENV:-$HOME/.cache/mullama-venv}
py=$venv/bin/python
if [ -x "$py" ] && "$py" -c 'import ollama, openai' 2>/dev/null; then
        echo "$py"; exit 0
fi
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2 || { echo "pyenv: python3 -m venv failed (install python3-venv)" >&2; exit 1; }
"$py" -m pip install -q --disable-pip-version-check 'ollama>=0.4' 'openai>=1.0' >&2 ||
        { echo "pyenv: pip install ollama openai failed" >&2; exit 1; }
"$py" -c 'import ollama, openai' || exit 1
echo "$py"
