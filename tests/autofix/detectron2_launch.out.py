from detectron2.engine import create_ddp_model
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def forward(self, x):
        return self.encoder(x)


def main():
    model = create_ddp_model(Net(), broadcast_buffers=False,
                             find_unused_parameters=True)
    ok = create_ddp_model(Net(), broadcast_buffers=False, find_unused_parameters=True)
    return model, ok
