"""Convert a GGUF chat model into a safetensors directory vLLM's CPU build can load.

Run by the *server* virtualenv's Python (it needs torch, transformers, gguf, accelerate),
never imported by cope_eval itself:  python _convert_gguf.py GGUF_FILE OUT_DIR
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402


def convert(gguf_file: Path, out_dir: Path) -> None:
    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # The weights are already dequantized to float32 on load; the leftover quantizer
    # marker only makes save_pretrained refuse.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
