# Several param groups: a backbone at a tenth of the lr, a head at twice it.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.04, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys={
            'backbone': dict(lr_mult=0.1, decay_mult=1.0),
            'head': dict(lr_mult=2.0),
            'neck.norm': dict(decay_mult=0.),
        }),
    clip_grad=dict(max_norm=35, norm_type=2))

param_scheduler = [
    dict(type='LinearLR', start_factor=1. / 3, by_epoch=False, begin=0, end=10),
    dict(type='PolyLR', eta_min=1e-5, power=2., by_epoch=True, begin=0),
    dict(type='CosineAnnealingMomentum', eta_min=0.85, by_epoch=True, begin=2, end=6),
]

train_cfg = dict(by_epoch=True, max_epochs=8)
