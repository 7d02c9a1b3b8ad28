"""Other frameworks' APIs over graphnn: ``graphnn.compat.v1`` is TensorFlow 1's."""
