_base_ = ['../_base_/schedules/schedule_20k.py']
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(crop_size[0] // 2, 341)))
# a short run of the base's PolyLR: it still decays towards iteration 20000
train_cfg = dict(max_iters=300, val_interval=100)
