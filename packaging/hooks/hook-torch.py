"""PyInstaller hook for torch that replaces pyinstaller-hooks-contrib's: that one adds every torch submodule
(``collect_submodules("torch")``, ~3000 modules imported in a child process) and its analysis ran past 25 min on
this 2-core machine; here the app's own imports of torch are followed, which reach everything it runs (torch,
and through diffusers' schedulers torch._dynamo and torch._inductor)."""
from pathlib import Path

from PyInstaller.utils.hooks import PY_DYLIB_PATTERNS, collect_data_files, collect_dynamic_libs, get_package_paths

module_collection_mode = "pyz+py"  # torch.jit and torch.library read the source of some functions
warn_on_missing_hiddenimports = False
# headers, CMake files and torch's own C++ test programs and test data (torch/bin, torch/test: 133 MB)
datas = collect_data_files("torch", excludes=["**/*.h", "**/*.hpp", "**/*.cuh", "**/*.lib", "**/*.cpp", "**/*.pyi",
                                              "**/*.cmake", "include/**", "share/**", "**/*.a", "bin/**", "test/**"])
#: libraries in torch/lib that only torch's C++ tests and the AOTInductor test kernels load
TEST_LIBRARIES = ("libjitbackend_test", "libtorchbind_test", "libbackend_with_compiler", "libaoti_custom_ops")
binaries = [(source, dest) for source, dest in
            collect_dynamic_libs("torch", search_patterns=PY_DYLIB_PATTERNS + ["*.so.*"])
            if not source.rsplit("/", 1)[-1].startswith(TEST_LIBRARIES)]
# the one program of torch/bin torch needs: ``import torch`` fails without it ("Unable to find torch_shm_manager")
binaries.append((str(Path(get_package_paths("torch")[1]) / "bin" / "torch_shm_manager"), "torch/bin"))
bindepend_symlink_suppression = ["**/torch/lib/*.so*"]  # links to torch/lib confuse torch's library lookup
