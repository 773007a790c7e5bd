# begin/end offsets: a warm-up by iteration, a cosine and an exponential tail by epoch.
base_lr = 0.05
max_epochs = 10

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=base_lr, momentum=0.9, nesterov=True))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=4, end=20),
    dict(type='ConstantLR', factor=0.5, by_epoch=True, begin=1, end=3),
    dict(
        type='CosineAnnealingLR',
        T_max=4,
        eta_min=base_lr * 0.01,
        by_epoch=True,
        begin=3,
        end=7),
    dict(type='ExponentialLR', gamma=0.8, by_epoch=True, begin=7),
]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
