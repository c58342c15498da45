"""One colour per expression, shared by the badges, the student table and the mood chart.

The seven colours are the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), which
stays distinguishable with the common forms of colour blindness; tiles without a face get a
neutral grey that is not part of it. Qt-free: colours are ``#rrggbb`` strings.
"""

from __future__ import annotations


#: Badge / chart colour of each expression, Okabe-Ito.
EMOTION_COLOURS: dict[str, str] = {
    "angry": "#D55E00",     # vermillion
    "disgust": "#009E73",   # bluish green
    "fear": "#CC79A7",      # reddish purple
    "happy": "#F0E442",     # yellow
    "sad": "#0072B2",       # blue
    "surprise": "#E69F00",  # orange
    "neutral": "#56B4E9",   # sky blue
}

#: Badge colour of a tile where no face was found.
NO_FACE_COLOUR: str = "#5F5F5F"

#: Text shown on a tile without a face.
NO_FACE_TEXT: str = "no face"

#: Badge colour of a tile whose camera is off (black, the Okabe-Ito colour no expression uses).
CAMERA_OFF_COLOUR: str = "#000000"

#: Text shown on a tile whose camera is off.
CAMERA_OFF_TEXT: str = "camera off"

#: Badge background of an uncertain result (a pale grey; the expression's colour is kept as a
#: frame and a stripe so that the guess is still visible but reads as a guess).
UNCERTAIN_COLOUR: str = "#E6E6E6"


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_colour_on(hex_colour: str) -> str:
    """Black or white, whichever contrasts more with the background ``#rrggbb``."""
    lum = _luminance(hex_colour)
    on_black = (lum + 0.05) / 0.05
    on_white = 1.05 / (lum + 0.05)
    return "#000000" if on_black >= on_white else "#FFFFFF"


def emotion_colour(emotion: str | None) -> str:
    """Colour of ``emotion``; :data:`NO_FACE_COLOUR` for ``None``."""
    return NO_FACE_COLOUR if emotion is None else EMOTION_COLOURS[emotion]
