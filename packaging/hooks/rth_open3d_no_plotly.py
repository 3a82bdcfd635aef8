"""PyInstaller runtime hook: the bundle leaves out plotly and dash (Open3D's notebook viewer, ~100 MB), but
``open3d.visualization`` imports its plotly module unconditionally, so a stand-in that says so takes its place."""
import sys
import types


def _not_bundled(*_args, **_kwargs):
    raise ImportError("Open3D's plotly viewer is not part of the Latent3D Studio bundle")


_stub = types.ModuleType("open3d.visualization.draw_plotly")
_stub.get_plotly_fig = _stub.draw_plotly = _stub.draw_plotly_server = _not_bundled
sys.modules[_stub.__name__] = _stub
