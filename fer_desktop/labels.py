"""The seven FER-2013 expression classes, shared by training, inference, the CSV and the GUI.

Order is FER-2013's label order (Goodfellow et al., "Challenges in Representation Learning:
A report on three machine learning contests", ICONIP 2013): label ``i`` of the data set is
``EMOTIONS[i]``. Every array of probabilities or logits in this project has its last axis in
this order.
"""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES: int = len(EMOTIONS)

#: Emotions counted as positive / negative in the class-mood summary.
POSITIVE: frozenset[str] = frozenset({"happy", "surprise"})
NEGATIVE: frozenset[str] = frozenset({"angry", "disgust", "fear", "sad"})

#: Side of the square grey face crop the model takes, in pixels (FER-2013 images are 48x48).
FACE_SIZE: int = 48
