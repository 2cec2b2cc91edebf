// Tests of the Datasets target live in this folder.
