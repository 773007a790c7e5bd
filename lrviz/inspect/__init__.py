"""The inspector: what torch's getters say (diff), what a checkpoint holds (state), whether it
resumes exactly (resume), and the same run as a PyTorch snippet (code)."""
