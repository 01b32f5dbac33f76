"""The explorer's "Learn" view: the seeds' knowledge checks and troubleshooting cases, each
answered by a live demo — a view of the explorer set up to show the answer.

Content only (questions, choices, answers from the seed texts); every ``demo`` names a view and
the control values to set there. The server checks the demos against its own validation in the
tests, so a demo never points at a control that does not exist.

Examples:
    >>> {c["demo"]["view"] for c in LEARN} <= set(VIEWS)
    True
"""

from __future__ import annotations

from typing import Any

#: The views a demo may open (the page's tab ids).
VIEWS = ("variance", "weights", "signal", "phase", "train", "model", "check")

LEARN: tuple[dict[str, Any], ...] = (
    {
        "id": "zeros",
        "kind": "question",
        "question": "Why is all-zero weight initialization bad for a hidden layer?",
        "choices": [
            "Neurons start identically, receive identical gradients, and keep learning the "
            "same feature.",
            "Zero weights cannot be updated by gradient descent.",
            "Biases stop working.",
        ],
        "answer": 0,
        "explanation": "Without symmetry breaking the hidden units remain clones of one another: "
        "the table shows every layer flagged Symmetric (all units equal), and zero gradients.",
        "demo": {"view": "signal",
                 "params": {"activation": "tanh", "start": "zeros", "depth": 8, "width": 128}},
    },
    {
        "id": "too_large",
        "kind": "question",
        "question": "What is one major risk of weights that are initialized too large?",
        "choices": [
            "Activations and gradients may become unstable or saturate.",
            "The network becomes linear.",
            "The loss function disappears.",
        ],
        "answer": 0,
        "explanation": "N(0, 1) weights ignore fan_in: with tanh every unit saturates at ±1 "
        "(derivative ≈ 0, gradients vanish backwards); with ReLU the variance grows ×width/2 "
        "per layer.",
        "demo": {"view": "signal",
                 "params": {"activation": "tanh", "start": "normal", "depth": 8, "width": 128}},
    },
    {
        "id": "he_relu",
        "kind": "question",
        "question": "Why is He initialization often paired with ReLU-like activations?",
        "choices": [
            "It uses a scale designed to preserve signal when ReLU zeroes about half the "
            "activations.",
            "ReLU requires all weights to be positive.",
            "He initialization removes the need for learning-rate tuning.",
        ],
        "answer": 0,
        "explanation": "ReLU halves E[x²]; He doubles the weight variance (2/fan_in) to "
        "compensate. Switch the start between xavier and he: the per-layer factor goes from "
        "×0.5 to ×1.",
        "demo": {"view": "variance",
                 "params": {"activation": "relu", "start": "xavier", "depth": 30}},
    },
    {
        "id": "normal_512",
        "kind": "question",
        "question": "If you initialize weights from N(0, 1) and have 512 neurons per layer, "
        "what happens to the variance after 10 layers?",
        "choices": [
            "It grows by a factor of about 512 per layer (×256 with ReLU): astronomically large.",
            "It stays at 1.",
            "It shrinks to 0.",
        ],
        "answer": 0,
        "explanation": "Var[y] = fan_in · Var[w] · E[x²]: each layer multiplies the variance by "
        "512 (256 after ReLU, which halves E[x²]).",
        "demo": {"view": "variance",
                 "params": {"activation": "relu", "start": "normal", "width": 512, "depth": 10}},
    },
    {
        "id": "he_512",
        "kind": "question",
        "question": "For a layer with 512 input neurons and ReLU activation, what should be the "
        "weight variance using He initialization?",
        "choices": ["2/512 ≈ 0.0039", "1/512 ≈ 0.00195", "2/(512 + 512) ≈ 0.00195"],
        "answer": 0,
        "explanation": "He: Var = 2/fan_in = 2/512 = 0.0039 (std 0.0625).",
        "demo": {"view": "weights",
                 "params": {"scheme": "he", "fan_in": 512, "fan_out": 512,
                            "distribution": "normal"}},
    },
    {
        "id": "bounds_1024_512",
        "kind": "question",
        "question": "A layer has 1024 input neurons and 512 output neurons. What are the uniform "
        "bounds for Xavier and for He?",
        "choices": ["Xavier ±0.0625, He ±0.0765", "Xavier ±0.089, He ±0.076",
                    "Xavier ±0.036, He ±0.044"],
        "answer": 0,
        "explanation": "Xavier: b = √(6/(1024+512)) = 0.0625; He: b = √(6/1024) = 0.0765. "
        "(The std is b/√3: 0.0361 and 0.0442; a bound of ±0.089 would be √(2·6/1536), "
        "a common slip.)",
        "demo": {"view": "weights",
                 "params": {"scheme": "xavier", "fan_in": 1024, "fan_out": 512,
                            "distribution": "uniform"}},
    },
    {
        "id": "edge_of_chaos",
        "kind": "question",
        "question": "Past which depth do random tanh networks stop being trainable, and why "
        "does the critical line help?",
        "choices": [
            "About 6 ξ_c layers (Schoenholz et al. 2017): correlations are lost over ξ_c layers, "
            "and ξ_c diverges on the critical line χ₁ = 1.",
            "Never: depth does not matter with tanh.",
            "Exactly 10 layers.",
        ],
        "answer": 0,
        "explanation": "Click points near the dashed critical line: ξ_c grows without bound; far "
        "from it the correlation c^l reaches its fixed point within a few layers.",
        "demo": {"view": "phase",
                 "params": {"activation": "tanh", "sigma_w2": 1.76, "sigma_b2": 0.05}},
    },
    {
        "id": "barely_learns",
        "kind": "trouble",
        "question": "The network barely learns from the first iterations.",
        "answer_text": "Check whether activations or gradients are tiny from the start: the "
        "learning rate may not be the first problem; the initialization scale may be. Here "
        "N(0, 0.01²) weights make the tanh signal vanish within a few layers (status "
        "Vanishing) and the gradients with it.",
        "demo": {"view": "signal",
                 "params": {"activation": "tanh", "start": "small", "depth": 10}},
    },
    {
        "id": "unstable",
        "kind": "trouble",
        "question": "Training becomes unstable immediately.",
        "answer_text": "Inspect whether the initial weights push activations into extreme "
        "regimes before training has had a chance to settle: N(0, 1) weights on a deep ReLU "
        "net make the loss explode; compare with He in the training view.",
        "demo": {"view": "train",
                 "params": {"activation": "relu", "starts": ["normal", "he"], "depth": 6,
                            "epochs": 5}},
    },
    {
        "id": "redundant",
        "kind": "trouble",
        "question": "A hidden layer behaves as if many neurons are redundant copies.",
        "answer_text": "Check for symmetry-breaking failures: if neurons start identically they "
        "keep learning identically. A constant start gives every unit the same weights; the "
        "doctor flags the layers Symmetric (duplicate units).",
        "demo": {"view": "signal",
                 "params": {"activation": "tanh", "start": "constant", "depth": 6}},
    },
    {
        "id": "own_init",
        "kind": "trouble",
        "question": "I wrote my own xavier_normal: how do I know it is right?",
        "answer_text": "Check it statistically on many shapes (variance with a tolerance from "
        "the sample size, a KS test for the law). This example uses the variance as the std, a "
        "classic slip; `initlab check my_module:my_xavier --scheme xavier_normal` does the same "
        "for yours.",
        "demo": {"view": "check",
                 "params": {"example": "xavier_normal_std_as_variance",
                            "scheme": "xavier_normal"}},
    },
)

__all__ = ["LEARN", "VIEWS"]
