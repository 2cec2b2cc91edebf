// Tests of the Layers target live in this folder.
