"""The file MLflow loads the recommender from ("models from code").

A pyfunc logged as an object is a CloudPickle: whoever can write to the artifact
store could swap it for one that runs their code on every machine that loads or
serves the model. Logged from this file instead, the model holds no pickle, only
this source, which names a class of the installed ``sracl_core``; its settings
come from the logged ``model_config``.
"""

from mlflow.models import set_model

from sracl_core.pyfunc_model import TopKRecommender

set_model(TopKRecommender())
