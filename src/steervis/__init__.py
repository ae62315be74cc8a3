"""steervis: visual recognition steered through language.

>>> import steervis
>>> steervis.__version__
'0.1.0'
"""

__version__ = "0.1.0"
