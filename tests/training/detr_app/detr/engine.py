def train_one_epoch(model, criterion, data_loader, optimizer, device):
    model.train()
    criterion.train()
    for samples, targets in data_loader:
        outputs = model(samples)  # expect: DDP203
        loss_dict = criterion(outputs, targets)
        weight_dict = criterion.weight_dict
        losses = sum(loss_dict[k] * weight_dict[k] for k in loss_dict.keys() if k in weight_dict)
        optimizer.zero_grad()
        losses.backward()
        optimizer.step()
