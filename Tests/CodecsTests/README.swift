// Tests of the Codecs target live in this folder.
