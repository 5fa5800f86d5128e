"""The pipeline's stages: what each one reads, how its fingerprint is made, how it runs.

``graph.py`` is light (no torch, vLLM or FAISS import), so ``sracl status`` and
the Prefect flow can plan a run without loading any engine; each stage's run
function lives in its own module and is imported only when the stage runs.
"""
