"""Optuna's TPE sampler through Ray's OptunaSearch, FIFO."""

from strategies._optuna import optuna_strategy

STRATEGY = optuna_strategy("optuna-tpe", "tpe", "OptunaSearch with TPESampler, FIFO")
