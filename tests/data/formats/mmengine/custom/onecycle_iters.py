# mmengine's OneCycleLR and a StepLR per iteration, in an iteration-based loop.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.95, 0.999)))
param_scheduler = [
    dict(type='OneCycleLR', eta_max=1e-2, pct_start=0.25, by_epoch=False, end=120,
         anneal_strategy='linear', total_steps=120),
    dict(type='StepLR', step_size=50, gamma=0.5, by_epoch=False, begin=120),
]
train_cfg = dict(by_epoch=False, max_iters=200, val_interval=50)
