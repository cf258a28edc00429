"""Makes the tiny base model the real-tools suite fine-tunes: a 2-layer, 64-wide Llama with
random weights and a character-level tokenizer, saved with `save_pretrained` (nothing comes
from a hub). Deterministic: the same seed gives the same weights.

    python make_base.py base-models/tiny-llama
"""
import sys

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
CHARS = "abcdefghijklmnopqrstuvwxyz "


def main(out: str) -> None:
    vocab = {token: i for i, token in enumerate(SPECIALS + list(CHARS))}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, max_position_embeddings=128, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    fast.save_pretrained(out)


if __name__ == "__main__":
    main(sys.argv[1])
