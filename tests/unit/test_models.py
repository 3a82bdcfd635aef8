import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.models import (
    AutoencoderConfig,
    DenoiserConfig,
    autoencoder_config,
    build_autoencoder,
    build_denoiser,
    denoiser_config,
)
from core.models.dit import DiT
from core.models.layers import voxel_shuffle, voxel_unshuffle
from core.metrics.distances import chamfer_distance
from core.models.losses import GRID_LOSSES, PointLoss, register_grid_loss
from core.models.quantizer import VectorQuantizer
from core.models.unet import UNet3d

N_POINTS = 256


def _points(batch: int, seed: int = 0) -> torch.Tensor:
    """Points on ellipsoids of different proportions, inside the unit sphere."""
    gen = torch.Generator().manual_seed(seed)
    dirs = F.normalize(torch.randn(batch, N_POINTS, 3, generator=gen), dim=-1)
    axes = 0.3 + 0.6 * torch.rand(batch, 1, 3, generator=gen)
    return dirs * axes


def _voxels(batch: int, resolution: int = 32) -> torch.Tensor:
    """Solid boxes and balls of different sizes, (B, 1, R, R, R) in {0, 1}."""
    c = (torch.arange(resolution) + 0.5) / resolution * 2 - 1
    x, y, z = torch.meshgrid(c, c, c, indexing="ij")
    grids = []
    for i in range(batch):
        size = 0.3 + 0.15 * i
        shape = (x.abs() < size) & (y.abs() < size / 2) & (z.abs() < 0.6) if i % 2 else x**2 + y**2 + z**2 < size**2
        grids.append(shape.float())
    return torch.stack(grids)[:, None]


def _tiny_ae(representation: str, kind: str, **overrides) -> torch.nn.Module:
    if representation == "points":
        overrides.setdefault("n_points", N_POINTS)
        overrides.setdefault("decoder_queries", 64)
    return build_autoencoder(autoencoder_config("tiny", representation, kind, **overrides))


@pytest.mark.parametrize("kind", ["ae", "vae", "vqvae"])
@pytest.mark.parametrize("representation,resolution,layout",
                         [("points", None, None), ("voxels", 32, None), ("voxels", 64, None), ("voxels", 32, "tokens")])
def test_autoencoder_shapes(representation, resolution, layout, kind):
    torch.manual_seed(0)
    overrides = {} if resolution is None else {"resolution": resolution}
    if layout is not None:
        overrides["latent_layout"] = layout
    ae = _tiny_ae(representation, kind, **overrides)
    x = _points(2) if representation == "points" else _voxels(2, resolution)
    z = ae.encode(x)
    assert z.shape == (2, *ae.latent_shape)
    assert ae.decode(z).shape == x.shape
    out = ae(x)
    assert out.recon.shape == x.shape
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    assert all(p.grad is not None for p in ae.parameters() if p.requires_grad)
    expected = {"points": "chamfer", "voxels": "iou"}[representation]
    assert {"loss", "recon", expected} <= set(out.logs)
    assert {"kl": kind == "vae", "perplexity": kind == "vqvae"} == {k: k in out.logs for k in ("kl", "perplexity")}


def test_point_loss_is_chamfer_plus_a_term_that_penalises_clumping():
    target = _points(2)
    spread = target + 0.01 * torch.randn_like(target)
    clumped = target.clone()
    clumped[:, ::2] = clumped[:, 1::2]  # half the points doubled up, half the shape's points unmatched
    loss_fn = PointLoss(uniformity_weight=1.0)
    _, logs = loss_fn(spread, target)
    assert logs["chamfer"] == pytest.approx(chamfer_distance(spread, target).mean().item(), rel=1e-5)
    assert loss_fn(clumped, target)[1]["dcd"] > logs["dcd"]


def test_point_decoder_returns_exactly_n_points_when_queries_do_not_divide_them():
    ae = build_autoencoder(AutoencoderConfig(representation="points", n_points=100, decoder_queries=64, width=16, heads=2))
    assert ae.decode(torch.zeros(3, *ae.latent_shape)).shape == (3, 100, 3)


def _overfit(ae: torch.nn.Module, x: torch.Tensor, steps: int) -> tuple[float, float]:
    opt = torch.optim.Adam(ae.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        out = ae(x)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
    return losses[0], min(losses[-5:])


def test_point_autoencoder_overfits_four_shapes():
    torch.manual_seed(0)
    first, last = _overfit(_tiny_ae("points", "ae"), _points(4), steps=25)
    assert last < 0.5 * first


@pytest.mark.parametrize("layout,steps", [("grid", 20), ("tokens", 40)])  # attention pooling starts slower
def test_voxel_autoencoder_overfits_four_shapes(layout, steps):
    torch.manual_seed(0)
    ae = _tiny_ae("voxels", "ae", latent_layout=layout)
    x = _voxels(4)
    first, last = _overfit(ae, x, steps=steps)
    assert last < 0.5 * first
    assert ae(x).logs["iou"] > 0.4


def test_token_latent_takes_the_point_latent_sizes_and_a_dit():
    """--ae-latent tokens: a grid autoencoder's latent is (K, C) tokens like the point latent of the same preset,
    so build_denoiser picks the DiT for it."""
    for preset in ("tiny", "small"):
        points = autoencoder_config(preset, "points")
        ae = build_autoencoder(autoencoder_config(preset, "splats", latent_layout="tokens", in_channels=3))
        assert ae.latent_shape == (points.latent_tokens, points.latent_channels)
    assert isinstance(build_denoiser(denoiser_config("tiny", ae.latent_shape, "class", num_classes=2)), DiT)
    assert autoencoder_config("small", "voxels", latent_layout="tokens", latent_channels=4).latent_channels == 4


def test_every_latent_token_reaches_the_whole_grid_where_a_grid_latent_cell_stays_local():
    """Why tokens: changing one token changes the decoded logits across the grid, changing one cell of a grid
    latent mainly near that cell (GroupNorm passes a trace everywhere, so "changed" means by at least a tenth
    of the largest change), so a denoiser's local error cannot cut a piece off on its own."""
    torch.manual_seed(0)
    reach = {}
    for layout in ("grid", "tokens"):
        ae = _tiny_ae("voxels", "ae", latent_layout=layout).eval()
        z = ae.encode(_voxels(1))
        moved = z.clone()
        moved.view(-1)[0] += 1.0  # first channel of the first token / of the corner cell
        with torch.no_grad():
            change = (ae.decode(moved) - ae.decode(z)).abs()
        reach[layout] = (change > 0.1 * change.max()).float().mean().item()
    assert reach["tokens"] > 0.3
    assert reach["grid"] < 0.1


def test_vae_kl_is_positive_and_encode_is_deterministic():
    torch.manual_seed(0)
    ae = _tiny_ae("voxels", "vae")
    x = _voxels(2)
    assert ae(x).logs["kl"] > 0
    torch.testing.assert_close(ae.encode(x), ae.encode(x), rtol=0, atol=0)
    # the training path samples: two forwards differ, the mean does not
    assert not torch.equal(ae(x).recon, ae(x).recon)


def test_latent_noise_reaches_the_decoder_only_in_training():
    """--ae-latent-noise: training forwards decode a noised latent (two differ, and differ from the clean
    reconstruction); eval forwards and encode stay deterministic, so samples and stage 2 never see the noise."""
    torch.manual_seed(0)
    ae = _tiny_ae("voxels", "ae", latent_noise=0.5)
    x = _voxels(2)
    clean = ae.decode(ae.encode(x))
    assert not torch.equal(ae(x).recon, ae(x).recon)
    assert not torch.equal(ae(x).recon, clean)
    ae.eval()
    torch.testing.assert_close(ae(x).recon, clean, rtol=0, atol=0)
    unnoised = _tiny_ae("voxels", "ae")
    assert torch.equal(unnoised(x).recon, unnoised(x).recon)


def test_latent_noise_scales_with_the_latent_so_the_encoder_cannot_outgrow_it():
    from core.models.autoencoder import with_latent_noise

    torch.manual_seed(0)
    small, large = torch.randn(64, 4, 8, 8, 8), 100 * torch.randn(64, 4, 8, 8, 8)
    relative = [float((with_latent_noise(z, 1.0) - z).std() / z.std()) for z in (small, large)]
    assert relative[0] == pytest.approx(relative[1], rel=0.1)
    assert 0.4 < relative[0] < 0.7  # s ~ U(0, 1): the noise's rms is sqrt(1/3) of the latent's std


def test_vae_posterior_std_is_capped_so_the_mean_represents_samples():
    ae = _tiny_ae("points", "vae")
    _, logvar = ae.bottleneck._split(torch.full((2, 16, 16), 50.0))
    assert torch.exp(0.5 * logvar).max() <= 0.1 + 1e-6


def test_vq_logs_usage_and_perplexity_and_encode_is_quantised():
    torch.manual_seed(0)
    ae = _tiny_ae("points", "vqvae")
    x = _points(4)
    logs = ae(x).logs
    codebook = ae.bottleneck.quantizer.codebook
    assert 0 < logs["codebook_usage"] <= 1
    assert 1 <= logs["perplexity"] <= codebook.shape[0]
    z = ae.encode(x).reshape(-1, codebook.shape[1])
    assert (z[:, None] - codebook[None]).abs().sum(-1).min(dim=1).values.max() == 0  # every latent is a code


def test_vq_restarts_dead_codes_on_encoder_outputs():
    torch.manual_seed(0)
    vq = VectorQuantizer(size=16, dim=4, dead_threshold=0.5).train()
    vq(torch.randn(64, 4))  # data-dependent initialisation
    far = torch.full((4,), 100.0)
    vq.codebook[:3] = far  # three codes nothing maps to ...
    vq.ema_count[:3] = 0.01  # ... whose usage has decayed below the threshold
    batch = torch.randn(64, 4)
    _, _, logs = vq(batch)
    assert logs["dead_restarts"] >= 3
    restarted = vq.codebook[:3]
    assert (restarted - far).abs().min() > 50
    assert (restarted[:, None] - batch[None]).abs().sum(-1).min(dim=1).values.max() == 0  # encoder outputs


def test_vq_ema_pulls_a_code_to_the_mean_of_its_vectors():
    vq = VectorQuantizer(size=2, dim=2, decay=0.5, dead_threshold=0.0).train()
    vq.initialized.fill_(True)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [5.0, 5.0]]))
    vq.ema_sum.copy_(vq.codebook)
    cluster = torch.tensor([[1.0, 1.0]]) + 0.1 * torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    for _ in range(12):  # decay 0.5: the initial code weighs 0.5^12 after 12 steps
        vq(cluster)
    torch.testing.assert_close(vq.codebook[0], cluster.mean(0), atol=1e-3, rtol=0)


def _cond(cond: str, batch: int, num_classes: int = 3) -> torch.Tensor | None:
    if cond == "class":
        return torch.tensor([0, num_classes])[:batch]
    if cond == "text":
        return torch.randn(batch, 384)
    return None


@pytest.mark.parametrize("cond", ["none", "class", "text"])
@pytest.mark.parametrize("latent_shape", [(16, 8), (4, 8, 8, 8)])
def test_denoiser_output_shape(latent_shape, cond):
    net = build_denoiser(denoiser_config("tiny", latent_shape, cond, num_classes=3))
    assert isinstance(net, DiT if len(latent_shape) == 2 else UNet3d)
    x = torch.randn(2, *latent_shape)
    for t in (torch.tensor([3, 999]), torch.tensor([0.5, 998.2])):
        assert net(x, t, _cond(cond, 2)).shape == x.shape


def test_dit_adaln_zero_blocks_are_identity_at_init():
    torch.manual_seed(0)
    net = build_denoiser(denoiser_config("tiny", (16, 8), "class", num_classes=3))
    for block in net.blocks:
        assert block.modulation[1].weight.abs().sum() == 0 and block.modulation[1].bias.abs().sum() == 0
    x, t, c = torch.randn(2, 16, 8), torch.tensor([10, 500]), torch.tensor([1, 3])
    hidden, _ = net.hidden(x, t, c)
    torch.testing.assert_close(hidden, net.embed(x) + net.position)
    assert torch.equal(net(x, t, c), torch.zeros_like(x))


def test_dit_dropout_acts_in_training_only():
    """Residual dropout makes two training-mode passes differ and leaves eval mode (sampling, the EMA copy)
    deterministic and equal to the same weights without dropout."""
    torch.manual_seed(0)
    cfg = denoiser_config("tiny", (16, 8), "class", num_classes=3)
    net = build_denoiser(DenoiserConfig.from_dict({**cfg.to_dict(), "dropout": 0.5}))
    plain = build_denoiser(cfg)
    for block in net.blocks:  # open the adaLN-Zero gates so the residual branches reach the output
        nn.init.normal_(block.modulation[1].weight, std=0.1)
    nn.init.normal_(net.final.linear.weight, std=0.1)
    plain.load_state_dict(net.state_dict())
    x, t, c = torch.randn(2, 16, 8), torch.tensor([10, 500]), torch.tensor([1, 3])
    net.train()
    assert not torch.equal(net(x, t, c), net(x, t, c))
    net.eval()
    plain.eval()
    torch.testing.assert_close(net(x, t, c), plain(x, t, c))
    with pytest.raises(ValueError, match="UNet"):
        DenoiserConfig.from_dict({**denoiser_config("tiny", (4, 8, 8, 8), "none").to_dict(), "dropout": 0.1})


@pytest.mark.parametrize("cond", ["class", "text"])
@pytest.mark.parametrize("latent_shape", [(16, 8), (4, 8, 8, 8)])
def test_null_condition_changes_the_output_once_trained(latent_shape, cond):
    torch.manual_seed(0)
    net = build_denoiser(denoiser_config("tiny", latent_shape, cond, num_classes=3))
    x, t = torch.randn(2, *latent_shape), torch.tensor([100, 100])
    real = _cond(cond, 1)
    null = torch.tensor([3]) if cond == "class" else torch.zeros(1, 384)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(3):  # learn: real condition -> +1, null -> -1
        pred = net(x, t, torch.cat([real, null]))
        loss = (pred[0] - 1).square().mean() + (pred[1] + 1).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        same_x = x[:1].repeat(2, *[1] * len(latent_shape))
        out = net(same_x, t, torch.cat([real, null]))
    assert (out[0] - out[1]).abs().mean() > 1e-3


def test_unet_predicts_zero_at_init():
    net = build_denoiser(denoiser_config("tiny", (4, 8, 8, 8), "none"))
    assert torch.equal(net(torch.randn(2, 4, 8, 8, 8), torch.tensor([1, 2])), torch.zeros(2, 4, 8, 8, 8))


def test_class_denoiser_rejects_missing_or_float_labels():
    net = build_denoiser(denoiser_config("tiny", (16, 8), "class", num_classes=3))
    x, t = torch.randn(2, 16, 8), torch.tensor([1, 2])
    with pytest.raises(ValueError, match="cond"):
        net(x, t)
    with pytest.raises(ValueError, match="LongTensor"):
        net(x, t, torch.tensor([0.0, 1.0]))


@pytest.mark.parametrize(
    "cfg",
    [
        autoencoder_config("tiny", "points", "vqvae", n_points=512),
        autoencoder_config("tiny", "voxels", "vae", resolution=64),
        autoencoder_config("tiny", "voxels", latent_layout="tokens"),
        denoiser_config("tiny", (16, 8), "text"),
        denoiser_config("tiny", (4, 8, 8, 8), "class", num_classes=10),
    ],
    ids=["points-vqvae", "voxels64-vae", "voxel-tokens", "dit-text", "unet-class"],
)
def test_config_round_trip_rebuilds_the_same_network(cfg):
    build = build_autoencoder if isinstance(cfg, AutoencoderConfig) else build_denoiser
    loaded = type(cfg).from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert loaded == cfg
    original, rebuilt = build(cfg).state_dict(), build(loaded).state_dict()
    assert {k: v.shape for k, v in original.items()} == {k: v.shape for k, v in rebuilt.items()}


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown keys"):
        DenoiserConfig.from_dict({"latent_shape": [4, 8], "widht": 3})
    with pytest.raises(ValueError, match="representation"):
        AutoencoderConfig(representation="mesh")
    with pytest.raises(ValueError, match="latent_layout"):
        AutoencoderConfig(representation="voxels", latent_layout="octree")
    with pytest.raises(ValueError, match="power of two"):
        AutoencoderConfig(representation="voxels", resolution=48)
    with pytest.raises(ValueError, match="num_classes"):
        DenoiserConfig(cond="class")


@pytest.mark.parametrize("latent_shape", [(16, 8), (4, 8, 8, 8)])
def test_gradient_checkpointing_gives_the_same_gradients(latent_shape):
    torch.manual_seed(0)
    plain = build_denoiser(denoiser_config("tiny", latent_shape, "text"))
    ckpt = build_denoiser(denoiser_config("tiny", latent_shape, "text", gradient_checkpointing=True))
    ckpt.load_state_dict(plain.state_dict())
    for net in (plain, ckpt):  # leave the zero init so gradients reach every layer
        for p in net.parameters():
            torch.nn.init.normal_(p, std=0.05, generator=torch.Generator().manual_seed(p.numel()))
    x, t, c = torch.randn(2, *latent_shape), torch.tensor([5, 50]), torch.randn(2, 384)
    for net in (plain, ckpt):
        net(x, t, c).square().sum().backward()
    for (name, a), b in zip(plain.named_parameters(), ckpt.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_voxel_shuffle_inverts_unshuffle():
    x = torch.randn(2, 3, 8, 8, 8)
    y = voxel_unshuffle(x, 2)
    assert y.shape == (2, 24, 4, 4, 4)
    torch.testing.assert_close(voxel_shuffle(y, 2), x, rtol=0, atol=0)
    # each output voxel holds one 2x2x2 block of the input
    torch.testing.assert_close(y[0, :8, 0, 0, 0], x[0, 0, :2, :2, :2].flatten())


def test_grid_losses_are_pluggable_for_new_representations(monkeypatch):
    monkeypatch.setattr("core.models.losses.GRID_LOSSES", dict(GRID_LOSSES))
    monkeypatch.setattr("core.models.losses.DEFAULT_GRID_LOSS", {"voxels": "focal"})
    calls = []

    def mse(pred, target):
        calls.append(pred.shape)
        loss = (pred - target).square().mean()
        return loss, {"recon": loss.item()}

    register_grid_loss("mse", lambda cfg: mse, default_for="splats")
    ae = build_autoencoder(autoencoder_config("tiny", "splats", "ae", resolution=16, in_channels=14))
    x = torch.randn(2, 14, 16, 16, 16)
    out = ae(x)
    assert calls == [(2, 14, 16, 16, 16)] and out.recon.shape == x.shape
