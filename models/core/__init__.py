"""The contract every model file follows (:mod:`.base`), the data it is given (:mod:`.data`), the
array maths shared by every engine and page, and the lazy imports of the command-line path."""
