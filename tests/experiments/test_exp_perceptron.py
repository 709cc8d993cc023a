import pytest
import torch

from introdl.experiments.perceptron import SeparabilityRun, separability_demo


@pytest.mark.slow
def test_separability_demo_tells_the_story():
    results = separability_demo(num_steps=200)
    assert all(isinstance(r, SeparabilityRun) for r in results.values())
    acc = [r.accuracy for r in results.values()]
    assert acc[0] > 0.95  # a line separates the blobs
    assert acc[1] < 0.8 and acc[2] < 0.8  # but not XOR, with or without stacking
    first = next(iter(results.values()))
    assert first.predict(first.X).shape == first.y.shape
    assert len(first.losses) == 200 and first.losses[-1] < first.losses[0]


def test_separability_demo_is_seeded_and_leaves_global_rng_alone():
    before = torch.random.get_rng_state()
    a = separability_demo(num_steps=3, seed=1)
    assert torch.equal(before, torch.random.get_rng_state())
    b = separability_demo(num_steps=3, seed=1)
    assert [r.losses for r in a.values()] == [r.losses for r in b.values()]


def test_separability_demo_checks_its_arguments():
    with pytest.raises(ValueError, match="num_steps"):
        separability_demo(num_steps=0)
    with pytest.raises(ValueError, match="lr"):
        separability_demo(lr=-1.0)
