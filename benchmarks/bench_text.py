"""Text encoder speed: loading all-MiniLM-L6-v2, one prompt uncached, a batch, a cached prompt.

What a ``sample --prompt`` pays before its first denoising step, and what embedding a text run's
training captions costs (core/models/text_encoder.py). The package's own sentence-transformers loader
took 5.6-6.4 s to load (notes/stack.md); this route reads the same files with torch + tokenizers +
safetensors. Measured in a fresh process (torch's import, which every command pays anyway, is shown
apart) with a fresh cache folder.
Run: ``python benchmarks/bench_text.py [--quick]`` (prints one JSON object).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = 64

_CHILD = r"""
import json, sys, tempfile, time, os
os.environ["LATENT3D_CACHE"] = tempfile.mkdtemp()
start = time.perf_counter()
import torch
from core.models.text_encoder import embed_prompts, text_encoder
imports = time.perf_counter() - start
start = time.perf_counter(); encoder = text_encoder(); load = time.perf_counter() - start
start = time.perf_counter(); embed_prompts(["a wooden chair"]); first = time.perf_counter() - start
count = int(sys.argv[1])
prompts = [f"a 3D model of shape number {i}" for i in range(count)]
start = time.perf_counter(); encoder(prompts); batch = time.perf_counter() - start
start = time.perf_counter(); embed_prompts(["a wooden chair"]); cached = time.perf_counter() - start
print(json.dumps({"torch_import_s": imports, "encoder_load_s": load, "first_prompt_s": first,
                  "batch_per_prompt_s": batch / count, "cached_prompt_s": cached}))
"""


def run(quick: bool = False) -> dict:
    """Time the encoder in a fresh interpreter; ``quick`` embeds 8 prompts in the batch instead of 64."""
    count = 8 if quick else PROMPTS
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(count)], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    times = json.loads(out.strip().splitlines()[-1])
    return {"cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2), "batch_prompts": count,
            **{k: round(v, 4) for k, v in times.items()}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 prompts in the batch instead of 64")
    print(json.dumps(run(parser.parse_args().quick), indent=2))
