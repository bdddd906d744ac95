"""A torchvision-reference-style classification script: main() builds the model, moves it, converts
BatchNorm, wraps it in DDP, and train_one_epoch (same file) computes the loss with a criterion."""
import torch
import torch.nn as nn
import torch.utils.data


class InceptionLike(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.fc = nn.Linear(8, num_classes)
        self.aux_fc = nn.Linear(8, num_classes)

    def forward(self, x):
        h = self.stem(x)
        return self.fc(h), self.aux_fc(h)


def train_one_epoch(model, criterion, optimizer, data_loader, device, epoch):
    model.train()
    for i, (image, target) in enumerate(data_loader):
        image, target = image.to(device), target.to(device)
        output = model(image)  # expect: DDP203
        loss = criterion(output[0], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(data_loader, epochs=1, device="cpu", sync_bn=True):
    model = InceptionLike(num_classes=4)
    model.to(device)
    if sync_bn:  # SyncBatchNorm needs GPUs: the runtime check on CPU turns it off
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model_without_ddp = model
    model = torch.nn.parallel.DistributedDataParallel(model)  # expect: DDP201
    model_without_ddp = model.module
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model_without_ddp.parameters(), lr=0.1)
    for epoch in range(epochs):
        train_one_epoch(model, criterion, optimizer, data_loader, device, epoch)


def _runtime():
    batches = [(torch.randn(4, 8), torch.randint(0, 4, (4,))) for _ in range(3)]
    main(batches, sync_bn=False)
