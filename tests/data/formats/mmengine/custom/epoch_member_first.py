# An epoch-based cosine listed before an iteration-based warm-up: at the end of an epoch
# mmengine's ParamSchedulerHook steps the warm-up (after_train_iter) before the cosine
# (after_train_epoch), whatever the list order.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=6, eta_min=0.01, by_epoch=True, begin=0, end=6),
    dict(type='LinearLR', start_factor=0.2, by_epoch=False, begin=0, end=12),
]
train_cfg = dict(by_epoch=True, max_epochs=6)
