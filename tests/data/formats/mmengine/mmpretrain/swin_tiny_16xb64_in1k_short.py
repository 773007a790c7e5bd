# A shortened Swin recipe: the warm-up and the cosine both follow the iterations.
_base_ = [
    '../_base_/schedules/imagenet_bs1024_adamw_swin.py',
    '../_base_/mmpretrain_runtime.py'
]

warmup_epochs = 3
max_epochs = 12

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=warmup_epochs,
        T_max=max_epochs - warmup_epochs,
        convert_to_iter_based=True)
]

train_cfg = dict(max_epochs=max_epochs)

# the optimizer is the base's, with a smaller batch: half the lr
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 2))
