// Tests of the Transport target live in this folder.
