#!/usr/bin/env bash
# compare.sh -- mullama bench vs llama.cpp's llama-bench on the same files
# (see compare.py for options).  Needs the anchors (../shared/anchors, or
# MULLAMA_ANCHORS=DIR, with `npm install` done there).
exec python3 "$(dirname "$0")/compare.py" "$@"
