from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def forward(self, x):
        return self.encoder(x)


model = dict(type="Net", depth=2)
find_unused_parameters = True
