"""FER+ crowd labels: the votes mapped by name onto FER-2013's classes, majority labels, the
training targets of each scheme, and evaluation against the FER+ majority."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_desktop.cli import main
from fer_desktop.labels import EMOTIONS
from fer_desktop.training import ferplus

COLUMNS = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
           "unknown", "NF"]


def _votes(*rows):
    return ferplus.parse_votes(np.array(rows, np.int16), COLUMNS)


def test_votes_are_mapped_by_name_not_by_position():
    v = _votes([0, 10, 0, 0, 0, 0, 0, 0, 0, 0],   # happiness
               [0, 0, 0, 0, 7, 0, 3, 0, 0, 0],    # anger, some fear
               [-1] * 10)                          # not in FER+
    assert v.majority().tolist() == [EMOTIONS.index("happy"), EMOTIONS.index("angry"), -1]
    assert v.present.tolist() == [True, True, False]
    d = v.distribution()
    assert d[1, EMOTIONS.index("angry")] == pytest.approx(0.7)
    assert d[1, EMOTIONS.index("fear")] == pytest.approx(0.3)
    assert np.all(d[2] == 0)


def test_majority_excludes_ties_contempt_unknown_and_not_a_face():
    v = _votes([4, 0, 0, 4, 2, 0, 0, 0, 0, 0],    # a tie: no majority
               [2, 0, 0, 0, 0, 0, 0, 6, 2, 0],    # contempt wins
               [1, 0, 0, 0, 0, 0, 0, 0, 0, 9],    # not a face
               [6, 0, 0, 0, 0, 0, 0, 0, 4, 0])    # neutral, beside unknown votes
    assert v.majority().tolist() == [-1, -1, -1, EMOTIONS.index("neutral")]


def test_single_votes_are_dropped_as_outliers_unless_nothing_is_left():
    v = _votes([8, 1, 1, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 9, 0])
    d = v.distribution()
    assert d[0, EMOTIONS.index("neutral")] == 1.0
    assert d[1, EMOTIONS.index("neutral")] == 1.0  # its only expression vote is kept
    assert np.allclose(v.distribution(drop_single=False)[0].max(), 0.8)


def test_each_scheme_gives_its_targets_and_the_images_it_trains_on():
    v = _votes([0, 10, 0, 0, 0, 0, 0, 0, 0, 0], [5, 0, 0, 5, 0, 0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0, 0, 0, 0, 10], [-1] * 10)
    y = np.array([3, 4, 0, 6])
    t, keep = ferplus.targets("original", y, None)
    assert keep.all() and np.array_equal(t.argmax(1), y)
    t, keep = ferplus.targets("majority", y, v)
    assert keep.tolist() == [True, False, False, False]
    t, keep = ferplus.targets("votes", y, v)
    assert keep.tolist() == [True, True, False, False]
    assert t[1, EMOTIONS.index("neutral")] == 0.5 and t[1, EMOTIONS.index("sad")] == 0.5
    t, keep = ferplus.targets("mix", y, v)
    assert keep.all() and np.allclose(t.sum(1), 1.0)
    assert t[0, 3] == 1.0  # happy by both
    assert t[1, EMOTIONS.index("sad")] == 0.75 and t[1, EMOTIONS.index("neutral")] == 0.25
    assert t[3, EMOTIONS.index("neutral")] == 1.0  # no votes: the original label
    with pytest.raises(ValueError, match="needs the FER\\+ votes"):
        ferplus.targets("votes", y, None)
    with pytest.raises(ValueError, match="labels must be one of"):
        ferplus.targets("crowd", y, v)


def test_bad_vote_files_get_a_clear_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        ferplus.load_votes(tmp_path / "nothing.npz", "val")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="junk.npz"):
        ferplus.load_votes(junk, "val")
    partial = tmp_path / "partial.npz"
    np.savez(partial, votes_train=np.zeros((3, 10), np.int16), columns=np.array(COLUMNS))
    with pytest.raises(ValueError, match="no FER\\+ votes for the val split"):
        ferplus.load_votes(partial, "val")
    with pytest.raises(ValueError, match="votes for 3 train images, but the data has 5"):
        ferplus.load_votes(partial, "train", n=5)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, votes_val=np.zeros((3, 10), np.int16), columns=np.array(COLUMNS[:9] + ["x"]))
    with pytest.raises(ValueError, match="lack the columns nf"):
        ferplus.load_votes(wrong, "val")


def test_evaluate_reports_ferplus_majority_accuracy_from_votes_in_the_data(model_path, faces,
                                                                          tmp_path, capsys):
    from fer_desktop.analysis.cvutil import cv2
    from fer_desktop.analysis.faces import crop_faces
    from fer_desktop.analysis.yunet import YuNetDetector

    det = YuNetDetector()
    crops = []
    for img in faces:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        crops.append(crop_faces(gray, det.detect(img).best_first().boxes[:1])[0])
    x = np.stack(crops * 4)
    y = np.array([3, 6] * 4)[: len(x)]
    votes = np.tile(np.array([[0, 9, 0, 0, 0, 0, 0, 0, 1, 0], [8, 0, 0, 0, 0, 0, 0, 0, 0, 2]],
                             np.int16), (4, 1))[: len(x)]
    votes[0] = -1  # an image FER+ lacks
    data = tmp_path / "tiny.npz"
    np.savez(data, x_mine=x, y_mine=y, votes_mine=votes, columns=np.array(COLUMNS))
    assert main(["evaluate", str(data), "--split", "mine", "--model", str(model_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    fp = report["ferplus_majority"]
    assert fp["n"] == len(x) - 1 and np.array(fp["confusion_matrix"]).sum() == len(x) - 1
    assert report["original"]["n"] == len(x) and report["votes"] == str(data)
    # votes from another file, and a votes file that does not fit
    other = tmp_path / "votes.npz"
    np.savez(other, votes_mine=votes[:3], columns=np.array(COLUMNS))
    assert main(["evaluate", str(data), "--split", "mine", "--model", str(model_path),
                 "--votes", str(other)]) == 2
    assert "votes for 3 mine images" in capsys.readouterr().err
