// Tests of the CommandLine target live in this folder.
