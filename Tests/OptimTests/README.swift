// Tests of the Optim target live in this folder.
