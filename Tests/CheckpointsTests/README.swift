// Tests of the Checkpoints target live in this folder.
