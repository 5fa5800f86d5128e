"""Raw sources -> canonical tables -> filtered, re-indexed, split sequences."""
