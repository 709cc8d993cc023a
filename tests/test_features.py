import pytest
import torch

from introdl.data import load_digits
from introdl.features import (HandFeatureClassifier, compare_features,
                              draw_ai_nesting, hand_designed_detectors,
                              plot_detectors, plot_digit_samples, ring_image,
                              stroke_image)


def test_stroke_image_draws_the_segment():
    img = stroke_image([(1, 1), (1, 6)], width=0.5)
    assert img.shape == (8, 8)
    assert img[1, 1:7].eq(1).all() and img.sum() == 6  # one row, columns 1..6
    with pytest.raises(ValueError, match="points"):
        stroke_image([(1, 1)])
    with pytest.raises(ValueError, match="width"):
        stroke_image([(1, 1), (2, 2)], width=0)


def test_ring_image_has_a_hole():
    img = ring_image((3.5, 3.5), 2.5)
    assert img[3:5, 3:5].sum() == 0 and img.sum() > 12


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


def test_learned_features_beat_hand_designed_ones():
    data = load_digits(seed=0)
    res = compare_features(data, num_epochs=8, seed=0)
    hand, learned = res["hand-designed"], res["learned"]
    assert 0.6 < hand["test_accuracy"] < learned["test_accuracy"]
    assert learned["test_accuracy"] > 0.9
    assert learned["history"].num_epochs == 8
    assert learned["model"][0].weight.shape == (12, 64)
    with pytest.raises(ValueError, match="num_epochs"):
        compare_features(data, num_epochs=0)


def test_figures():
    fig = draw_ai_nesting()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"intelligence", "artificial intelligence", "machine learning",
            "deep learning"} <= texts
    data = load_digits(seed=0)
    fig = plot_digit_samples(data.X_train, data.y_train, per_class=2)
    assert [t.get_text() for t in fig.axes[0].texts] == [str(d) for d in range(10)]
    names, D = hand_designed_detectors()
    fig = plot_detectors(D, names, torch.randn(12, 64))
    assert len(fig.axes) == 2
    assert "neuron 12" in {t.get_text() for t in fig.axes[1].texts}
