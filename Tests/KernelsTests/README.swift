// Tests of the Kernels target live in this folder.
