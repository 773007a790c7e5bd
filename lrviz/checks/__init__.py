"""`lrviz check`: lint rules, expectations and golden snapshots for schedule specs.

registry.py (rule ids and texts) and model.py (findings) are torch-free, so `lrviz rules`
stays fast; runner.check_spec loads, runs and checks one spec.
"""
