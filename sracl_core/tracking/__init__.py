"""MLflow tracking of pipeline runs: the parent run and its stage runs (:mod:`.run`), what
each stage logs (:mod:`.stages`), the registered model (:mod:`.model`), the store
(:mod:`.store`), and the pieces they share."""
