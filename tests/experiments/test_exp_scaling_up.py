"""Experiments of the chapter "Scaling up"."""

import pytest
import torch

from introdl.experiments.scaling_up import ddp_vs_single, sampler_shards


def test_sampler_shards_deal_out_one_shuffled_order():
    shards = sampler_shards(40, 2, 8, num_steps=3, seed=1)
    assert len(shards) == 3 and all(len(step) == 2 for step in shards)
    flat = [i for step in shards for rank in step for i in rank]
    assert len(flat) == len(set(flat)) == 24  # no example twice
    single = sampler_shards(40, 1, 8, num_steps=3, seed=1)
    for step, one in zip(shards, single):
        assert step[0] == one[0][0::2] and step[1] == one[0][1::2]
    assert sampler_shards(40, 2, 8, epoch=1) != sampler_shards(40, 2, 8, epoch=0)


def test_sampler_shards_misuse():
    with pytest.raises(ValueError, match="multiple"):
        sampler_shards(40, 3, 8)
    with pytest.raises(ValueError, match="world_size"):
        sampler_shards(40, 0, 8)


@pytest.mark.slow
def test_ddp_vs_single_agree():
    result = ddp_vs_single(2, n_train=128, batch_size=32, num_epochs=1, hidden_size=8)
    assert result.world_size == 2 and len(result.rank_states) == 2
    assert len(result.single_losses) == 128 // 32
    assert all(len(losses) == 4 for losses in result.rank_losses)
    assert result.max_difference < 1e-5
    for k, w in result.single_state.items():
        torch.testing.assert_close(result.rank_states[0][k], w)
    assert result.launch_seconds > 0
