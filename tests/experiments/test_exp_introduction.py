import math

import pytest
import torch

from introdl.data import load_digits
from introdl.experiments.introduction import (
    FeatureRun,
    HandFeatureClassifier,
    compare_features,
    hand_designed_detectors,
    ring_image,
    stroke_image,
)
from introdl.layers import Dense


def test_stroke_image_draws_the_segment():
    img = stroke_image([(1, 1), (1, 6)], width=0.5)
    assert img.shape == (8, 8)
    assert img[1, 1:7].eq(1).all() and img.sum() == 6  # one row, columns 1..6
    with pytest.raises(ValueError, match="points"):
        stroke_image([(1, 1)])
    with pytest.raises(ValueError, match="width"):
        stroke_image([(1, 1), (2, 2)], width=0)


def test_stroke_image_takes_a_generator_of_points_and_checks_size():
    torch.testing.assert_close(stroke_image(p for p in [(1, 1), (1, 6)]),
                               stroke_image([(1, 1), (1, 6)]))
    with pytest.raises(ValueError, match="size"):
        stroke_image([(1, 1), (2, 2)], size=0)


def test_ring_image_has_a_hole():
    img = ring_image((3.5, 3.5), 2.5)
    assert img[3:5, 3:5].sum() == 0 and img.sum() > 12
    with pytest.raises(ValueError, match="radius"):
        ring_image((3.5, 3.5), 0.0)


def test_detectors_are_zero_mean_unit_length_and_distinct():
    names, D = hand_designed_detectors()
    assert len(names) == 12 and D.shape == (12, 64)
    torch.testing.assert_close(D.mean(1), torch.zeros(12), atol=1e-6, rtol=0)
    torch.testing.assert_close(D.norm(dim=1), torch.ones(12))
    similarity = D @ D.T - torch.eye(12)
    assert similarity.max() < 0.9  # no two detectors are the same stroke


def test_hand_classifier_only_learns_the_classifier():
    _, D = hand_designed_detectors()
    model = HandFeatureClassifier(D)
    assert [name for name, _ in model.named_parameters()] == ["classifier.weight",
                                                             "classifier.bias"]
    X = torch.rand(5, 64)
    expected = torch.relu(X @ D.T) @ model.classifier.weight.T + model.classifier.bias
    torch.testing.assert_close(model(X), expected)
    with pytest.raises(ValueError, match="detectors"):
        HandFeatureClassifier(D.reshape(12, 8, 8))


def test_hand_classifier_starts_like_a_dense_layer_and_leaves_global_rng_alone():
    _, D = hand_designed_detectors()
    before = torch.random.get_rng_state()
    model = HandFeatureClassifier(D, generator=torch.Generator().manual_seed(3))
    assert torch.equal(before, torch.random.get_rng_state())
    dense = Dense(12, 10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(model.classifier.weight, dense.weight)
    assert torch.equal(model.classifier.bias, dense.bias)
    bound = 1 / math.sqrt(12)
    assert model.classifier.weight.abs().max() <= bound


def test_hand_classifier_misuse():
    _, D = hand_designed_detectors()
    model = HandFeatureClassifier(D)
    with pytest.raises(ValueError, match="detectors"):
        HandFeatureClassifier(D.tolist())
    # the forward pass is the idea alone: Python and torch name the mistake
    with pytest.raises(TypeError, match="unsupported operand type.*list"):
        model([[0.0] * 64])
    with pytest.raises(RuntimeError, match=r"5x63 and 64x12"):
        model(torch.rand(5, 63))
    assert model(torch.rand(0, 64)).shape == (0, 10)  # an empty batch is fine
    assert model(torch.rand(64)).shape == (10,)  # so is one image


@pytest.mark.slow
def test_learned_features_beat_hand_designed_ones():
    data = load_digits(seed=0)
    res = compare_features(data, num_epochs=8, seed=0)
    hand, learned = res["hand-designed"], res["learned"]
    assert isinstance(hand, FeatureRun)
    assert 0.6 < hand.test_accuracy < learned.test_accuracy
    assert learned.test_accuracy > 0.9
    assert learned.history.num_epochs == 8
    assert learned.model[0].weight.shape == (12, 64)
    raw = res["raw pixels"]  # a linear classifier on the 64 pixels
    assert list(res) == ["hand-designed", "learned", "raw pixels"]
    assert len(raw.model) == 1 and raw.model[0].weight.shape == (10, 64)
    assert raw.test_accuracy > hand.test_accuracy  # the hand features lose information
    with pytest.raises(ValueError, match="num_epochs"):
        compare_features(data, num_epochs=0)
