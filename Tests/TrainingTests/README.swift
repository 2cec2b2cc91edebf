// Tests of the Training target live in this folder.
