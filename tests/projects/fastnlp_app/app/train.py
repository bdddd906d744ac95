from fastNLP import Trainer

from .models import Clean, Net
from app.models import Net as AbsNet


def main(dl, opt, unknown_model):
    trainer = Trainer(model=Net(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt)  # expect: DDP201
    model = AbsNet().cuda()
    Trainer(model, dl, opt, "auto", -1)  # expect: DDP201
    Trainer(model=model, driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt,  # expect: DDP202
            model_wo_auto_param_call=True)
    # negatives
    Trainer(model=model, driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt,
            torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}})
    kw = {"ddp_kwargs": {"find_unused_parameters": True}}
    Trainer(model=model, driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt, torch_kwargs=kw)
    Trainer(model=Clean(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt)
    Trainer(model=unknown_model, driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt)
    Trainer(model=model, driver="torch", device=0, train_dataloader=dl, optimizers=opt)
    return trainer
