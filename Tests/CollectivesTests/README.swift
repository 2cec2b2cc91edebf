// Tests of the Collectives target live in this folder.
