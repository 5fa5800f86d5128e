"""The LLM half of SRA-CL: prompts, profiles, text embeddings, semantic neighbours."""
