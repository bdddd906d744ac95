"""Training code that uses models of an installed package (fakevision, see tests/thirdparty/site)."""
import torch
import torch.nn.functional as F
from fakevision import models
from fakevision.models import auxnet, distilled_tiny, twohead
from fakevision.models.segmentation import passed_seg, segnet


def train_attribute(x, y):
    model = models.auxnet(aux_logits=True)
    out = model(x)  # expect: DDP203
    loss = F.cross_entropy(out.logits, y)
    loss.backward()


def train_unpacked(x, y):
    model = auxnet(num_classes=10)  # aux_logits defaults to True in AuxNet.__init__
    logits, aux2, aux1 = model(x)  # expect: DDP203
    F.cross_entropy(logits, y).backward()


def train_index(x, y):
    model = auxnet(aux_logits=True).train()
    out = model(x)  # expect: DDP203
    F.cross_entropy(out[0], y).backward()


def train_all_outputs(x, y):
    model = auxnet(aux_logits=True)
    logits, aux2, aux1 = model(x)
    loss = F.cross_entropy(logits, y) + 0.3 * (F.cross_entropy(aux1, y) + F.cross_entropy(aux2, y))
    loss.backward()


def train_without_aux(x, y):
    model = auxnet(aux_logits=False)
    logits = model(x)
    F.cross_entropy(logits, y).backward()


def train_named_tuple_class(x, y):
    model = twohead()
    out = model(x)  # expect: DDP203
    F.cross_entropy(out.main, y).backward()


def train_segmentation_aux(x, y):
    model = segnet(aux_loss=True)
    out = model(x)  # expect: DDP203
    F.cross_entropy(out["out"], y).backward()


def train_segmentation_both(x, y):
    model = segnet(aux_loss=True)
    out = model(x)
    (F.cross_entropy(out["out"], y) + 0.5 * F.cross_entropy(out["aux"], y)).backward()


def train_segmentation_plain(x, y):
    model = segnet()
    out = model(x)
    F.cross_entropy(out["out"], y).backward()


def train_passed_heads_aux(x, y):
    model = passed_seg(aux_loss=True)
    out = model(x)  # expect: DDP203
    F.cross_entropy(out["out"], y).backward()


def train_passed_heads_default(x, y):
    model = passed_seg()
    out = model(x)
    F.cross_entropy(out["out"], y).backward()


def train_distilled_default(x, y):
    model = distilled_tiny()  # averages both heads unless distilled training is switched on
    out = model(x)
    F.cross_entropy(out, y).backward()


def train_distilled_logits_only(x, y):
    model = distilled_tiny(num_classes=3)
    model.set_distilled_training(True)
    logits, dist = model(x)  # expect: DDP203
    F.cross_entropy(logits, y).backward()


def train_distilled_both(x, y):
    model = distilled_tiny()
    model.set_distilled_training()
    logits, dist = model(x)
    (F.cross_entropy(logits, y) + F.cross_entropy(dist, y)).backward()


def evaluate(x):
    model = auxnet(aux_logits=True).eval()
    with torch.no_grad():
        out = model(x)
    return out.logits
