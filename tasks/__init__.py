"""One Prefect task per pipeline stage: thin wrappers over ``sracl_core.stages``."""
