"""Optuna's Gaussian-process sampler through Ray's OptunaSearch, FIFO."""

from strategies._optuna import optuna_strategy

STRATEGY = optuna_strategy("optuna-gp", "gp", "OptunaSearch with GPSampler, FIFO")
