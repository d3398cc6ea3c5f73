"""The words the offline routers ignore (routing/text.py): no routing signal in queries, descriptions and
examples. Here, below the model, so that a design's `vocabulary` can be checked against them when it is read
(a single stop word in a synonym group would never match). Plain data; no I/O.
"""

from __future__ import annotations

# Words that carry no routing signal in capability/agent descriptions and queries. Hand-written (not
# scikit-learn's list, which drops useful words such as "bill", "call", "show", "find").
_STOP_TEXT = """
a an the this that these those it its it's i me my mine we our us you your yours he she they them their
is are was were be been being am do does did doing have has had having will would shall should can could
may might must to of in on at by for with from into onto about as and or but if then than so such
there here what which who whom whose how why when where please pls plz hi hello hey thanks thank
just some any all also too very really need want wanna like would im i'm id ive get got help assist
assistance know tell let give make way able trying try
capability capabilities agent agents responsible responsibility related queries query handles handle
handling questions question regarding service services user users customer customers
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
