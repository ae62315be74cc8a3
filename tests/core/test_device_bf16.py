"""The tiny pipelines run in bfloat16 on the CPU, as they would on a card, and no float32 tensor meets a
bfloat16 weight in a matmul, linear layer, convolution or attention kernel: a ``TorchFunctionMode`` checks the
floating-point operands of every such call. An input left in float32 beside bfloat16 weights fails on a card
(or is silently upcast and slow); here it is caught by its call site."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from tiny_pipelines import run_all
from torch.overrides import TorchFunctionMode

MATMULS = {torch.matmul, torch.mm, torch.bmm, torch.addmm, torch.baddbmm, torch.einsum, F.linear, F.conv1d,
           F.conv2d, F.conv3d, F.scaled_dot_product_attention, torch.Tensor.matmul, torch.Tensor.__matmul__,
           torch.Tensor.mm, torch.Tensor.bmm}


def floating_dtypes(args, kwargs) -> set[torch.dtype]:
    values = [*args, *kwargs.values()]
    values += [v for a in args if isinstance(a, list | tuple) for v in a]
    return {v.dtype for v in values if isinstance(v, torch.Tensor) and v.is_floating_point()}


def where(frame) -> str:
    """``file:line`` of the innermost caller outside torch and this test."""
    skip = (str(Path(torch.__file__).parent), __file__)
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame else "?"


class MixedPrecisionRecorder(TorchFunctionMode):
    """Records matmul-like calls whose operands mix bfloat16 and float32, and counts bfloat16 ones."""

    def __init__(self) -> None:
        super().__init__()
        self.mixed: set[str] = set()
        self.bf16_calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS:
            dtypes = floating_dtypes(args, kwargs)
            if dtypes == {torch.bfloat16}:
                self.bf16_calls += 1
            elif torch.bfloat16 in dtypes:
                self.mixed.add(f"{where(sys._getframe(1))} {sorted(map(str, dtypes))}")
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def recorder(tmp_path_factory) -> MixedPrecisionRecorder:
    with MixedPrecisionRecorder() as seen:
        run_all(tmp_path_factory.mktemp("bf16"), dtype="bfloat16")
    return seen


def test_the_tiny_pipelines_compute_in_bfloat16(recorder):
    assert recorder.bf16_calls > 100  # every model of every pipeline multiplied in bfloat16


def test_no_float32_tensor_meets_a_bfloat16_matmul(recorder):
    assert not recorder.mixed, "float32 beside bfloat16:\n" + "\n".join(sorted(recorder.mixed))


def test_the_recorder_sees_a_mixed_call():
    with MixedPrecisionRecorder() as seen:
        F.linear(torch.ones(2, 3), torch.ones(4, 3, dtype=torch.bfloat16).float())
        with pytest.raises(RuntimeError):
            F.linear(torch.ones(2, 3), torch.ones(4, 3, dtype=torch.bfloat16))
    assert len(seen.mixed) == 1 and seen.bf16_calls == 0
