"""The Socorro-compatible ``/api/<Model>/`` API: the model contract (``base``) and its dispatcher (``views``)."""
