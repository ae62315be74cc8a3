"""steervis: visual recognition steered through language.

>>> import steervis
>>> steervis.__version__
'0.3.0'
"""

from steervis import _moved

__version__ = "0.3.0"

_moved.install()  # old import paths (0.1) raise an ImportError naming their new home
