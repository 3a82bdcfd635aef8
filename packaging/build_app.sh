#!/usr/bin/env bash
# Build the one-folder app with PyInstaller and check that it starts (a --screenshot under Xvfb or offscreen).
# PyInstaller is a build tool, not a dependency: it goes into a separate build venv that reuses the project's
# packages (--system-site-packages over .venv), so the project environment stays unchanged.
#   packaging/build_app.sh [BUILD_VENV]      (default /tmp/latent3d-build-venv)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_VENV="${1:-/tmp/latent3d-build-venv}"
PROJECT_PY="$ROOT/.venv/bin/python"

if [ ! -x "$BUILD_VENV/bin/pyinstaller" ]; then
  "$PROJECT_PY" -m venv --system-site-packages "$BUILD_VENV"
  # the project's site-packages become visible to the build venv through a .pth file
  site=$("$PROJECT_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  build_site=$("$BUILD_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$site" > "$build_site/latent3d-project.pth"
  "$BUILD_VENV/bin/python" -m pip install --quiet "pyinstaller>=6"
fi

cd "$ROOT"
start=$(date +%s)
"$BUILD_VENV/bin/pyinstaller" --noconfirm --clean --distpath build/dist --workpath build/pyinstaller \
  packaging/latent3d-studio.spec
echo "build time: $(( $(date +%s) - start )) s"
echo "size: $(du -sh build/dist/latent3d-studio | cut -f1)"

shot="$(mktemp -d)/smoke.png"
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1280x800x24" build/dist/latent3d-studio/latent3d-studio --open builtin --screenshot "$shot"
else
  QT_QPA_PLATFORM=offscreen build/dist/latent3d-studio/latent3d-studio --open builtin --screenshot "$shot"
fi
test -s "$shot" && echo "smoke test: started and wrote $shot"
