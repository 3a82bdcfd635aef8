"""The Train page's set-up form: a "New run" tab with the six steps (data → representation → autoencoder →
conditioning → preset → output) and an "Advanced" tab with the rest of the ``train`` command's options, so the
recipes of the built-in models (a v-predicting DiT of width 384 under bf16 over ``builtin:splats``' token
autoencoder…) can be trained from the app as from the CLI.

Two tabs rather than rows that unfold: the form then keeps one height, and the live curves under it keep theirs
at 1280x800. A spin box at 0 means "the preset's value" (``None`` in the :class:`RunSpec`).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSizePolicy, QSpinBox, QTabWidget, QWidget)

from app.icons import icon
from core.choices import (AUTOENCODER_KINDS, BETA_SCHEDULES, CONDITIONINGS, DEFAULT_BETA_SCHEDULE,
                          DEFAULT_LATENT_NORM, DEFAULT_PREDICTION, DEFAULT_VOXEL_LOSS, LATENT_LAYOUTS, LATENT_NORMS,
                          MODEL_REPRESENTATIONS, PREDICTIONS, PRESETS, VOXEL_LOSSES)
from core.training.pretrained import builtin_folders, peek_config
from core.training.spec import ResumeSpec, RunSpec, denoised_by_dit

#: the form offers no text conditioning (it has nowhere to write captions) and starts on class conditioning
FORM_CONDITIONINGS = tuple(c for c in CONDITIONINGS if c != "text")
FORM_DEFAULT_CONDITIONING = "class"
#: what a spin box shows at 0, where the run takes the preset's value
PRESET_TEXT = "preset"
#: the paper's γ (Hang et al., ICCV 2023), offered as the step of the Min-SNR box
MIN_SNR_STEP = 5.0
#: the dropout box's step and ceiling: DDPM's and EDM's small-data rates are 0.1 and 0.13
DROPOUT_STEP = 0.05
MAX_DROPOUT = 0.5
#: the denoiser widths the built-in models use are multiples of this (and of every preset's head count)
WIDTH_STEP = 64
#: the stage-1 source's placeholder: empty means "train stage 1 in this run"
TRAIN_STAGE_ONE = "a new autoencoder, or builtin:NAME"


def _preset_spin(step: int, maximum: int = 1_000_000) -> QSpinBox:
    """A count whose 0 reads "preset" and means the preset's value."""
    spin = QSpinBox(minimum=0, maximum=maximum, value=0, singleStep=step)
    spin.setSpecialValueText(PRESET_TEXT)
    return spin


def _value_or_none(spin: QSpinBox | QDoubleSpinBox):
    return spin.value() or None


def _value_unless_default(text: str, default: str) -> str | None:
    """A choice left at its default stays unset, so the run's config.json reads as the CLI's would."""
    return None if text == default else text


class RunForm(QTabWidget):
    """Every choice of a new run; :meth:`spec` turns it into the job's :class:`RunSpec`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.addTab(self._build_run_tab(), "New run")
        self.addTab(self._build_advanced_tab(), "Advanced")
        self.repr_combo.currentTextChanged.connect(self._sync_enabled)
        self.prediction_combo.currentTextChanged.connect(self._sync_enabled)
        self.latent_combo.currentTextChanged.connect(self._sync_enabled)
        self.ae_from_combo.currentTextChanged.connect(self._adopt_autoencoder)
        self._sync_enabled()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    # -- building ------------------------------------------------------------------------------------------
    def _build_run_tab(self) -> QWidget:
        self.data_edit = QLineEdit(placeholderText="dataset folder, file or 'builtin'")
        self.classes_edit = QLineEdit(placeholderText="all classes (or e.g. chair,sofa)")
        self.repr_combo = _combo(MODEL_REPRESENTATIONS)
        self.ae_combo = _combo(AUTOENCODER_KINDS)
        self.cond_combo = _combo(FORM_CONDITIONINGS, FORM_DEFAULT_CONDITIONING)
        self.preset_combo = _combo(PRESETS)
        self.out_edit = QLineEdit(placeholderText="run folder to create")
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_edit, 2)
        data_row.addWidget(_browse_button("Choose the dataset folder", self._ask_data))
        data_row.addWidget(QLabel("Classes"))
        data_row.addWidget(self.classes_edit, 1)  # the path takes the rest: the folder name is what one reads
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(_browse_button("Choose where the run folder goes", self._ask_out))

        tab = QWidget()
        grid = QGridLayout(tab)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.addWidget(QLabel("1  Data"), 0, 0)
        grid.addLayout(data_row, 0, 1, 1, 3)
        for row, column, caption, field in ((1, 0, "2  Representation", self.repr_combo),
                                            (1, 2, "3  Autoencoder", self.ae_combo),
                                            (2, 0, "4  Conditioning", self.cond_combo),
                                            (2, 2, "5  Preset", self.preset_combo)):
            grid.addWidget(QLabel(caption), row, column)
            grid.addWidget(field, row, column + 1)
        grid.addWidget(QLabel("6  Output"), 3, 0)
        grid.addLayout(out_row, 3, 1, 1, 3)
        return tab

    def _build_advanced_tab(self) -> QWidget:
        self.ae_steps = _preset_spin(100)
        self.ldm_steps = _preset_spin(100)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.max_shapes = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.max_shapes.setSpecialValueText("all shapes")
        self.prediction_combo = _combo(PREDICTIONS, DEFAULT_PREDICTION)
        self.bf16 = QCheckBox("bf16 autocast")
        self.latent_combo = _combo(LATENT_LAYOUTS)
        self.width_spin = _preset_spin(WIDTH_STEP, maximum=4096)
        self.depth_spin = _preset_spin(1, maximum=64)
        self.min_snr = QDoubleSpinBox(minimum=0.0, maximum=1000.0, value=0.0, singleStep=MIN_SNR_STEP, decimals=1)
        self.min_snr.setSpecialValueText("off")
        self.zero_snr = QCheckBox("zero terminal SNR")
        self.dropout = QDoubleSpinBox(minimum=0.0, maximum=MAX_DROPOUT, value=0.0, singleStep=DROPOUT_STEP, decimals=2)
        self.dropout.setSpecialValueText("off")
        self.loss_combo = _combo(VOXEL_LOSSES)
        self.latent_norm_combo = _combo(LATENT_NORMS, DEFAULT_LATENT_NORM)
        self.betas_combo = _combo(BETA_SCHEDULES, DEFAULT_BETA_SCHEDULE)
        self.ae_from_combo = QComboBox(editable=True)
        self.ae_from_combo.addItems(["", *builtin_folders()])
        self.ae_from_combo.lineEdit().setPlaceholderText(TRAIN_STAGE_ONE)
        ae_from_row = QHBoxLayout()
        ae_from_row.addWidget(self.ae_from_combo, 1)
        ae_from_row.addWidget(_browse_button("Take stage 1 from a trained run", self._ask_ae_from))
        for widget, tip in ((self.ae_steps, "--ae-steps: stage-1 optimiser steps (on Resume: the new total)"),
                            (self.ldm_steps, "--ldm-steps: stage-2 optimiser steps (on Resume: the new total)"),
                            (self.max_shapes, "--max-shapes: train on at most N shapes (quick tries)"),
                            (self.prediction_combo, "--prediction: what the denoiser predicts, noise ε, velocity v, "
                                                    "or flow matching's velocity on its straight path (flow)"),
                            (self.bf16, "--bf16: bfloat16 autocast; about 1.9x faster for a width-384 DiT on a "
                                        "CPU with AVX512-BF16, no faster for narrow ones"),
                            (self.latent_combo, "--ae-latent: a voxel or splat autoencoder's latent, an r³ grid "
                                                "(denoised by a UNet) or tokens (denoised by a DiT)"),
                            (self.width_spin, "--denoiser-width: the denoiser's base width"),
                            (self.depth_spin, "--denoiser-depth: DiT blocks, or a UNet's residual blocks per level"),
                            (self.min_snr, "--min-snr: Min-SNR-γ loss weighting of stage 2 (5 in the paper)"),
                            (self.zero_snr, "--zero-terminal-snr: stage 2's last step is pure noise, as sampling "
                                            "starts (Lin et al. 2024; needs v-prediction)"),
                            (self.dropout, "--denoiser-dropout: residual dropout in each DiT block while training, "
                                           "against fitting a small dataset's latents too closely (token latents)"),
                            (self.loss_combo, "--ae-loss: a voxel autoencoder's reconstruction loss"),
                            (self.latent_norm_combo, "--latent-norm: stage 2 scales all latents by one factor "
                                                     "(global) or standardises each element (element)"),
                            (self.betas_combo, "--beta-schedule: stage 2's betas, LDM's scaled_linear, DDPM's linear "
                                               "(more steps at high noise) or the cosine squaredcos_cap_v2 (fewer)"),
                            (self.ae_from_combo, "--ae-from: skip stage 1 and reuse this run's (or built-in "
                                                 "model's) autoencoder; the form takes its representation, "
                                                 "preset, kind and latent layout")):
            widget.setToolTip(tip)

        tab = QWidget()
        grid = QGridLayout(tab)
        for column in (1, 3, 5):
            grid.setColumnStretch(column, 1)
        cells = ((0, 0, "AE steps", self.ae_steps), (0, 2, "LDM steps", self.ldm_steps), (0, 4, "Seed", self.seed),
                 (1, 0, "Max shapes", self.max_shapes), (1, 2, "Prediction", self.prediction_combo),
                 (2, 0, "Latent", self.latent_combo), (2, 2, "Width", self.width_spin),
                 (2, 4, "Min-SNR γ", self.min_snr), (3, 0, "AE loss", self.loss_combo),
                 (4, 2, "Depth", self.depth_spin), (4, 4, "Latent norm", self.latent_norm_combo),
                 (5, 0, "Betas", self.betas_combo), (5, 2, "Dropout", self.dropout))
        for row, column, caption, field in cells:
            grid.addWidget(QLabel(caption), row, column)
            grid.addWidget(field, row, column + 1)
        grid.addWidget(self.bf16, 1, 4, 1, 2)
        grid.addWidget(self.zero_snr, 4, 0, 1, 2)
        grid.addWidget(QLabel("Stage 1 from"), 3, 2)
        grid.addLayout(ae_from_row, 3, 3, 1, 3)
        return tab

    # -- reacting ------------------------------------------------------------------------------------------
    def _sync_enabled(self) -> None:
        """Offer only the options this run can use: a latent layout for grids, a loss for voxel autoencoders,
        stage-1 settings only when stage 1 is trained here, a zero terminal SNR only to a v-prediction, betas to any
        prediction but flow matching (which brings its own path), dropout only to the DiT of a token latent."""
        representation = self.repr_combo.currentText()
        trains_stage_one = not self.ae_from_combo.currentText().strip()
        self.latent_combo.setEnabled(representation != "points")
        self.loss_combo.setEnabled(representation == "voxels" and trains_stage_one)
        self.ae_steps.setEnabled(trains_stage_one)
        self.zero_snr.setEnabled(self.prediction_combo.currentText() == "v")
        self.betas_combo.setEnabled(self.prediction_combo.currentText() != "flow")
        self.dropout.setEnabled(denoised_by_dit(representation, self.latent_combo.currentText()))

    def _adopt_autoencoder(self, run: str) -> None:
        """Stage 1 from ``run``: take the settings its autoencoder was built with, which this run must share."""
        config = peek_config(run.strip()) if run.strip() else None
        if config is not None:
            autoencoder = config.get("autoencoder") or {}
            self.repr_combo.setCurrentText(str(config.get("representation", "")))
            self.preset_combo.setCurrentText(str(config.get("preset", "")))
            self.ae_combo.setCurrentText(str(autoencoder.get("kind", "")))
            self.latent_combo.setCurrentText(autoencoder.get("latent_layout") or LATENT_LAYOUTS[0])
        self._sync_enabled()

    def set_dataset(self, root: str | Path) -> None:
        """Pre-fill the data step with the dataset opened on the Datasets page."""
        self.data_edit.setText(str(root))
        self.data_edit.setCursorPosition(0)  # show where the path starts, not its tail

    def _ask_data(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Training data", self.data_edit.text())
        if path:
            self.data_edit.setText(path)

    def _ask_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Parent folder of the run", str(Path.home()))
        if path:
            self.out_edit.setText(str(Path(path) / "run"))

    def _ask_ae_from(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run whose autoencoder to reuse", str(Path.home()))
        if path:
            self.ae_from_combo.setCurrentText(path)

    # -- the spec ------------------------------------------------------------------------------------------
    def spec(self) -> RunSpec:
        """The RunSpec of the form: torch-free, so the GUI thread builds it at once and the job checks it.
        Options a run of this kind cannot take (a loss for points, AE steps with a reused autoencoder) stay
        unset rather than being refused."""
        representation = self.repr_combo.currentText()
        ae_from = self.ae_from_combo.currentText().strip() or None
        classes = [c.strip() for c in self.classes_edit.text().split(",") if c.strip()] or None
        return RunSpec(data=self.data_edit.text().strip(), representation=representation, classes=classes,
                       ae_kind=self.ae_combo.currentText(), cond=self.cond_combo.currentText(),
                       preset=self.preset_combo.currentText(),
                       ae_steps=None if ae_from else _value_or_none(self.ae_steps),
                       ldm_steps=_value_or_none(self.ldm_steps), max_shapes=_value_or_none(self.max_shapes),
                       seed=self.seed.value(), prediction=self.prediction_combo.currentText(),
                       bf16=self.bf16.isChecked(), ae_from=ae_from, denoiser_width=_value_or_none(self.width_spin),
                       denoiser_depth=_value_or_none(self.depth_spin),
                       ae_latent=None if representation == "points" else self.latent_combo.currentText(),
                       min_snr_gamma=_value_or_none(self.min_snr),
                       zero_terminal_snr=self.zero_snr.isEnabled() and self.zero_snr.isChecked(),
                       denoiser_dropout=_value_or_none(self.dropout) if self.dropout.isEnabled() else None,
                       ae_loss=self._voxel_loss(representation, ae_from),
                       latent_norm=_value_unless_default(self.latent_norm_combo.currentText(), DEFAULT_LATENT_NORM),
                       beta_schedule=_value_unless_default(self.betas_combo.currentText(), DEFAULT_BETA_SCHEDULE)
                       if self.betas_combo.isEnabled() else None)

    def resume_spec(self) -> ResumeSpec:
        """Resuming a run: the AE and LDM steps asked for, where set, become its stages' new totals (a finished run
        then trains longer, as ``train --resume --ldm-steps N`` does); everything else comes from its config.json."""
        ae_steps = _value_or_none(self.ae_steps) if self.ae_steps.isEnabled() else None  # greyed out: not asked
        return ResumeSpec(ae_steps=ae_steps, ldm_steps=_value_or_none(self.ldm_steps))

    def _voxel_loss(self, representation: str, ae_from: str | None) -> str | None:
        loss = self.loss_combo.currentText()
        trains_voxel_autoencoder = representation == "voxels" and not ae_from
        # the default loss stays unset, as the CLI leaves it
        return loss if trains_voxel_autoencoder and loss != DEFAULT_VOXEL_LOSS else None


def _combo(items: tuple[str, ...], current: str | None = None) -> QComboBox:
    combo = QComboBox()
    combo.addItems(items)
    if current is not None:
        combo.setCurrentText(current)
    return combo


def _browse_button(tip: str, slot) -> QPushButton:
    button = QPushButton(icon("open"), "")
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button
