#!/bin/sh
# Build app.wasm: the world airlock.toml allows, the component, then the manifest attached.
# `AIRLOCK` and `COMPONENTIZE_PY` name other binaries than the ones on PATH.
set -eu
cd "$(dirname "$0")"
airlock="${AIRLOCK:-airlock}"
componentize_py="${COMPONENTIZE_PY:-componentize-py}"
"$airlock" wit --manifest airlock.toml --out wit
{{componentize}}
"$airlock" pack component.wasm --manifest airlock.toml -o app.wasm
