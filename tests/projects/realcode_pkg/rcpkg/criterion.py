import torch.nn as nn


class CTCCriterion(nn.Module):
    """fairseq-style criterion: the CTC part of the loss comes from model.get_normalized_probs()."""

    def forward(self, model, x, lang):
        features = model(x, lang)
        return features.pow(2).mean() - model.get_normalized_probs(features).mean()
