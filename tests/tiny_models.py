"""Tiny randomly initialised models saved with ``save_pretrained``, for tests and notebooks in CI.

Each builder writes a folder that loads through exactly the public path a user takes with real
weights (``model=folder`` or an ``ORFEAS_*_MODEL`` variable) and returns it. The weights are random,
so outputs are noise, but shapes, seeds, progress, cancellation and the file formats are real.

    >>> from tests.tiny_models import build_tiny_sd
    >>> folder = build_tiny_sd(tmp_path / "sd")  # doctest: +SKIP
    >>> orfeas_nb.text_to_image("an owl", model=folder, steps=2)  # doctest: +SKIP

Building imports diffusers (10–20 s): do it once per test session.
"""

from __future__ import annotations

from pathlib import Path

SEED = 0


def _byte_characters() -> list[str]:
    """The 256 characters CLIP's byte-level BPE uses for the 256 byte values."""
    printable = {*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)}
    characters, extra = [], 0
    for byte in range(256):
        if byte in printable:
            characters.append(chr(byte))
        else:
            characters.append(chr(256 + extra))
            extra += 1
    return characters


def tiny_clip_tokenizer():
    """A CLIP tokenizer built without files: special tokens plus every byte, alone and word-final."""
    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {}
    characters = _byte_characters()
    for token in ["<|startoftext|>", "<|endoftext|>", *characters, *(c + "</w>" for c in characters)]:
        vocab.setdefault(token, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def _clip_text_config(vocab_size: int, *, projection: bool = False):
    from transformers import CLIPTextConfig

    extra = {"projection_dim": 32} if projection else {}
    return CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        **extra,
    )


def build_tiny_sd(folder: str | Path) -> Path:
    """A tiny Stable Diffusion pipeline (UNet 4/8 channels, 2-block VAE, 2-layer CLIP): 64×64 images."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    folder = Path(folder)
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(4, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=2,
        sample_size=64,
    )
    tokenizer = tiny_clip_tokenizer()
    text_encoder = CLIPTextModel(_clip_text_config(len(tokenizer)))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1)
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def build_tiny_depth(folder: str | Path) -> Path:
    """A tiny Depth Anything model (Dinov2 backbone, 56 px, patch 14, width 16) with its image processor."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    folder = Path(folder)
    torch.manual_seed(SEED)
    backbone = Dinov2Config(
        image_size=56,
        patch_size=14,
        hidden_size=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=32,
        out_features=["stage1", "stage2", "stage3", "stage4"],
        out_indices=[1, 2, 3, 4],
        reshape_hidden_states=False,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=16,
        neck_hidden_sizes=[8, 8, 16, 16],
        fusion_hidden_size=16,
        head_hidden_size=8,
        patch_size=14,
    )
    model = DepthAnythingForDepthEstimation(config)
    processor = DPTImageProcessor(
        do_resize=True,
        size={"height": 56, "width": 56},
        keep_aspect_ratio=True,
        ensure_multiple_of=14,
        do_pad=False,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def _tiny_prior():
    from diffusers import PriorTransformer

    return PriorTransformer(
        num_attention_heads=2,
        attention_head_dim=16,
        embedding_dim=32,
        num_embeddings=32,
        embedding_proj_dim=32,
        time_embed_dim=128,
        num_layers=1,
        clip_embed_dim=64,
        additional_embeddings=0,
        time_embed_act_fn="gelu",
        norm_in_type="layer",
        embedding_proj_norm_type="layer",
        encoder_hid_proj_type=None,
        added_emb_type=None,
    )


def _tiny_renderer():
    from diffusers.pipelines.shap_e import ShapERenderer

    width = 8
    return ShapERenderer(
        param_shapes=((width, 93), (width, width), (width, width), (width, width)),
        d_latent=32,
        d_hidden=width,
        n_output=12,
        background=(0.1, 0.1, 0.1),
    )


def _shap_e_scheduler():
    from diffusers import HeunDiscreteScheduler

    return HeunDiscreteScheduler(
        beta_schedule="exp",
        num_train_timesteps=1024,
        prediction_type="sample",
        use_karras_sigmas=True,
        clip_sample=True,
        clip_sample_range=1.0,
    )


def build_tiny_shap_e(folder: str | Path, kind: str = "text") -> Path:
    """A tiny Shap-E pipeline: ``kind="text"`` (ShapEPipeline) or ``"image"`` (ShapEImg2ImgPipeline)."""
    import torch
    from diffusers import ShapEImg2ImgPipeline, ShapEPipeline
    from transformers import CLIPImageProcessor, CLIPTextModelWithProjection, CLIPVisionConfig, CLIPVisionModel

    folder = Path(folder)
    torch.manual_seed(SEED)
    common = {"prior": _tiny_prior(), "shap_e_renderer": _tiny_renderer(), "scheduler": _shap_e_scheduler()}
    if kind == "text":
        tokenizer = tiny_clip_tokenizer()
        encoder = CLIPTextModelWithProjection(_clip_text_config(len(tokenizer), projection=True))
        pipe = ShapEPipeline(text_encoder=encoder, tokenizer=tokenizer, **common)
    elif kind == "image":
        vision = CLIPVisionConfig(
            hidden_size=32,
            image_size=32,
            projection_dim=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_channels=3,
            num_hidden_layers=2,
            patch_size=8,
        )
        processor = CLIPImageProcessor(
            crop_size=32,
            do_center_crop=True,
            do_normalize=True,
            do_resize=True,
            image_mean=[0.48145466, 0.4578275, 0.40821073],
            image_std=[0.26862954, 0.26130258, 0.27577711],
            resample=3,
            size=32,
        )
        pipe = ShapEImg2ImgPipeline(image_encoder=CLIPVisionModel(vision), image_processor=processor, **common)
    else:
        raise ValueError(f"kind must be 'text' or 'image', got {kind!r}")
    pipe.save_pretrained(folder)
    return folder
