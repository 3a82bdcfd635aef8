"""Training captions for text conditioning, made from class names with several templates.

Point-E-style prompts without a captioned data set: each shape of class ``night_stand`` is paired,
per step, with one of "a night stand", "a 3D model of a night stand", … chosen at random, so the
denoiser learns the class from many phrasings and the sentence encoder's neighbourhood carries it
to unseen ones ("a wooden chair"). The empty caption (the all-zero null row) comes in through the
condition dropout of core.diffusion.objective, exactly like the null class.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

#: caption templates; ``{a}`` is the article ("a"/"an") and ``{name}`` the class phrase
CAPTION_TEMPLATES = (
    "{name}",
    "{a} {name}",
    "{a} 3D model of {a} {name}",
    "{a} {name} shape",
    "a 3D shape of {a} {name}",
    "{a} {name} object",
    "a render of {a} {name}",
    "{a} {name} in 3D",
)


def class_phrase(name: str) -> str:
    """The words of a class name: ``night_stand`` -> ``night stand``."""
    return " ".join(name.replace("_", " ").replace("-", " ").split()).lower()


def caption(template: str, class_name: str) -> str:
    """``template`` filled for ``class_name``, with "an" before a vowel."""
    phrase = class_phrase(class_name)
    filled = template.format(a="{a}", name=phrase)
    words = filled.split(" ")
    for i, word in enumerate(words):  # each article agrees with the word after it
        if word == "{a}":
            words[i] = "an" if i + 1 < len(words) and words[i + 1][:1] in "aeiou" else "a"
    return " ".join(words)


def caption_table(classes: Sequence[str], templates: Sequence[str],
                  embed: Callable[[Sequence[str]], torch.Tensor]) -> torch.Tensor:
    """(classes, templates, dim) embeddings of every caption, computed once before stage 2."""
    texts = [caption(t, c) for c in classes for t in templates]
    return embed(texts).view(len(classes), len(templates), -1)


def pick_captions(table: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One random template's embedding per label (B, dim), drawn from ``generator`` (the step's seed)."""
    choice = torch.randint(0, table.shape[1], (labels.shape[0],), generator=generator)
    return table.to(labels.device)[labels, choice.to(labels.device)]
