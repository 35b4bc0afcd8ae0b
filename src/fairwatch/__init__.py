"""fairwatch: digital supervision of the platform economy.

Data flows through the top-level packages in this order: ``law`` (dated, cited
parameters) · ``contract`` (the reporting standard) · ``lake`` (validated, atomic
storage) · ``engine`` (Ibis backends) · ``detectors`` (findings) · ``synth`` (the
synthetic market and its evaluation) · ``report`` · ``cli``.
"""

__version__ = "0.1.0"
