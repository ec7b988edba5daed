"""Live runs: real PyTorch training in Ray actors.

* ``backend``: the live backend the runner drives (trainable, GPU share, kept experiment folder);
* ``trainable``: the Tune trainable, one epoch per step, validation and test accuracy every epoch;
* ``training``: the training loop over tensors already on the device;
* ``models``: the model families problems tune (CNN, MLP, sequence, Conv1d, GRU);
* ``data``: ``DataSplits``, the interface between a data set (``datasets/``) and the trainer.
"""
