class AttnProcessor:
    """diffusers-style attention processor: receives the attention module and reads its projections."""

    def __call__(self, attn, x):
        return attn.to_out(attn.to_q(x))
