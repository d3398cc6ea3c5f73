"""A fitted statistical router as plain data (`fitted_state`) and back (`fitted_from_state`), for a disk cache.

A cold fit of the statistical router on a 3 000-example table costs about half a second of CPU, most of it in
liblinear and the lexicon `auto` check; an unchanged table (the same content, seed rows and Studio code: the
caller's key) need not pay it again in every process. The state holds what the fit learnt, as numbers and text
only (arrays as dtype, shape and bytes; vocabularies as term lists): no pickle of our classes, so the disk
cache's restricted unpickler loads it without naming any class (formats/design_cache.py). What the table and
seed rows give again cheaply (the training set, the lexicon, the kNN vote's matrix, the per-agent models'
`same_agent`) is rebuilt; a router fitted with an embedder is not stored. A loaded router answers as the
fitted one does, bit for bit, evidence included (tests/test_routing_stored.py). No I/O: the caller stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from lmos_studio.routing.base import RoutingTable, listed_texts
from lmos_studio.routing.capability import SiblingModels
from lmos_studio.routing.lexicon import LexiconChoice
from lmos_studio.routing.sparse import SparseEncoder, char_vectorizer, word_vectorizer
from lmos_studio.routing.statistical import CHAR_WEIGHT, WORD_WEIGHT, FittedStatistical, without_stop_ngrams
from lmos_studio.routing.text import lexicon_for
from lmos_studio.routing.training import training_set

# the state's layout and model; another number is not loaded (2: the agent SVM's char 3-4-grams; 3, session 11:
# the static agent opinion, the static fit and its threshold)
FORMAT = 3
_MATRICES = ("features_by_example", "descriptions_by_feature", "fit_by_text", "descriptions_knn", "services_knn")
_ARRAYS = ("intercept", "model_classes", "fit_weights", "loo")
_CHOICE = ("setting", "used", "coverage", "with_lexicon", "without_lexicon", "n", "words_only")


def scipy_version() -> str:
    """scipy's version: a fit's sparse products are its kernels (the disk key's code version names numpy and
    scikit-learn already)."""
    return str(scipy.__version__)


def fitted_state(fitted: FittedStatistical) -> dict[str, Any] | None:
    """What `fitted` learnt as plain data (str, numbers, bytes, lists and dicts of them); None for a router
    this format does not describe (one fitted with an embedder, or encoders of another layout)."""
    word = _layout(fitted)
    if word is None:
        return None
    coef = fitted.coef
    return {
        "format": FORMAT,
        "choice": {name: getattr(fitted.lexicon_choice, name) for name in _CHOICE},
        "vocabularies": None if not word else [_vocabulary(part) for part in (*word, *fitted.zero_shot.parts)],
        "matrices": {name: _matrix(getattr(fitted, name)) for name in _MATRICES},
        "arrays": {name: _array(getattr(fitted, name)) for name in _ARRAYS},
        "coef": _matrix(coef) if sp.issparse(coef) else _array(coef),
        "coef_sparse": bool(sp.issparse(coef)),
        "siblings": None if fitted.siblings is None else _siblings(fitted.siblings),
        "scalars": {
            "temperature": fitted.temperature,
            "weights": list(fitted.weights),
            "threshold": fitted.threshold,
            "elsewhere_limit": fitted.elsewhere_limit,
            "agent_model": fitted.agent_model,
            "static_fit": fitted.static_fit,
            "name": fitted.name,
        },
        "service_texts": list(fitted.service_texts),
    }


def fitted_from_state(
    table: RoutingTable, seed: Sequence[tuple[str, str, str]], state: Any
) -> FittedStatistical | None:
    """The router `fitted_state` described, fitted on `table` + `seed` (the same ones); None when the state is
    not of this format or does not fit them (then fit again)."""
    try:
        return _rebuilt(table, seed, state)
    except (KeyError, TypeError, ValueError, IndexError):  # a foreign or damaged state: not ours to load
        return None


def _rebuilt(table: RoutingTable, seed: Sequence[tuple[str, str, str]], state: Any) -> FittedStatistical | None:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    choice = LexiconChoice(**state["choice"])
    lexicon = lexicon_for(table.vocabulary, builtin=choice.used)
    data = training_set(table, seed)
    vocabularies = state["vocabularies"]
    if vocabularies is None:
        word = char = zero_shot = None
    else:
        word, char, zero_shot = (
            _vectorizer(make(lexicon), found)
            for make, found in zip((word_vectorizer, char_vectorizer, word_vectorizer), vocabularies, strict=True)
        )
    encoder = SparseEncoder([] if word is None else [(word, WORD_WEIGHT), (char, CHAR_WEIGHT)])
    matrices = {name: _from_matrix(state["matrices"][name]) for name in _MATRICES}
    by_example = matrices["features_by_example"]
    if by_example is None or by_example.shape != (encoder.n_features, len(data.texts)):
        return None  # another table's state
    arrays = {name: _from_array(state["arrays"][name]) for name in _ARRAYS}
    scalars = state["scalars"]
    coef = _from_matrix(state["coef"]) if state["coef_sparse"] else _from_array(state["coef"])
    fitted = FittedStatistical(
        data=data,
        encoder=encoder,
        features_by_example=by_example,
        knn_by_example=without_stop_ngrams(by_example, encoder),
        coef=coef,
        intercept=_required(arrays["intercept"]),
        model_classes=_required(arrays["model_classes"]),
        temperature=float(scalars["temperature"]),
        zero_shot=SparseEncoder([] if zero_shot is None else [(zero_shot, 1.0)]),
        descriptions_by_feature=_required(matrices["descriptions_by_feature"]),
        weights=(float(scalars["weights"][0]), float(scalars["weights"][1]), float(scalars["weights"][2])),
        agent_terms=None,  # evidence: counted when first read
        lexicon=lexicon,
        fit_encoder=SparseEncoder([] if word is None else [(word, 1.0)]),
        fit_by_text=_required(matrices["fit_by_text"]),
        fit_weights=arrays["fit_weights"],
        loo=arrays["loo"],
        threshold=scalars["threshold"],
        lexicon_choice=choice,
        siblings=_from_siblings(state["siblings"], data.agent_index()),
        descriptions_knn=matrices["descriptions_knn"],
        services_knn=matrices["services_knn"],
        service_texts=tuple(state["service_texts"]),
        listed=listed_texts(table.out_of_scope),  # the table's own: not part of the state
        elsewhere_limit=scalars["elsewhere_limit"],
        name=str(scalars["name"]),
        agent_model=bool(scalars["agent_model"]),
        static_fit=bool(scalars["static_fit"]),
    )
    return fitted


def _layout(fitted: FittedStatistical) -> tuple[Any, ...] | None:
    """The fitted model's word and char parts (empty without a corpus) when its encoders are laid out as
    `StatisticalRouter.fit` builds them (word + char; zero-shot words; `fit` = the word part); else None."""
    if fitted.centroids is not None:
        return None
    parts, zero_shot, fit = fitted.encoder.parts, fitted.zero_shot.parts, fitted.fit_encoder.parts
    if not parts and not zero_shot and not fit:
        return ()
    if len(parts) != 2 or len(zero_shot) != 1 or len(fit) != 1 or fit[0].vocabulary is not parts[0].vocabulary:
        return None
    if parts[1].preprocess is None or (parts[0].weight, parts[1].weight) != (WORD_WEIGHT, CHAR_WEIGHT):
        return None
    return tuple(parts)


def _vocabulary(part: Any) -> dict[str, Any]:
    """A part's vocabulary (terms by id) and idf."""
    terms = sorted(part.vocabulary, key=part.vocabulary.__getitem__)
    return {"terms": terms, "idf": _array(part.idf)}


def _vectorizer(vectorizer: TfidfVectorizer, found: dict[str, Any]) -> TfidfVectorizer:
    """`vectorizer` fitted to a stored vocabulary and idf."""
    vectorizer.vocabulary_ = {term: i for i, term in enumerate(found["terms"])}
    vectorizer.idf_ = _required(_from_array(found["idf"]))
    return vectorizer


def _siblings(models: SiblingModels) -> dict[str, Any]:
    return {
        "coef": _array(models.coef),
        "intercept": _array(models.intercept),
        "groups": [_array(group) for group in models.groups],
    }


def _from_siblings(found: Any, agent_of: npt.NDArray[np.int64]) -> SiblingModels | None:
    if found is None:
        return None
    same_agent = (agent_of[:, None] == agent_of[None, :]).astype(np.float64)  # as `fit_siblings` makes it
    groups = tuple(_required(_from_array(group)) for group in found["groups"])
    coef, intercept = _required(_from_array(found["coef"])), _required(_from_array(found["intercept"]))
    return SiblingModels(coef, intercept, groups, same_agent)


def _array(values: Any) -> dict[str, Any] | None:
    """An array as plain data: dtype, shape, bytes (C order)."""
    if values is None:
        return None
    found = np.ascontiguousarray(values)
    return {"dtype": found.dtype.str, "shape": list(found.shape), "bytes": found.tobytes()}


def _from_array(found: Any) -> Any:
    """`_array` back, as a writable array of its dtype and shape (a copy of the bytes)."""
    if found is None:
        return None
    dtype = np.dtype(found["dtype"])
    if dtype.hasobject:
        raise ValueError("an object array is not plain data")
    return np.frombuffer(found["bytes"], dtype=dtype).reshape(found["shape"]).copy()


def _matrix(matrix: Any) -> dict[str, Any] | None:
    """A CSR matrix as plain data: shape and its three arrays (the same bits, order and index types)."""
    if matrix is None:
        return None
    csr = sp.csr_matrix(matrix)
    return {
        "shape": list(csr.shape),
        "data": _array(csr.data),
        "indices": _array(csr.indices),
        "indptr": _array(csr.indptr),
    }


def _from_matrix(found: Any) -> Any:
    """`_matrix` back: the CSR matrix of those arrays, their index types kept."""
    if found is None:
        return None
    shape = (int(found["shape"][0]), int(found["shape"][1]))
    indices, indptr = _from_array(found["indices"]), _from_array(found["indptr"])
    matrix = sp.csr_matrix((_from_array(found["data"]), indices, indptr), shape=shape)
    matrix.indices, matrix.indptr = indices, indptr  # the stored index types (the constructor may narrow them)
    return matrix


def _required(value: Any) -> Any:
    if value is None:
        raise ValueError("a required part of the state is missing")
    return value
