"""Build hook for the optional compiled part of the codec; all metadata lives in setup.cfg.

``hessian2._speedups`` (the decoder's hot loop in C) and ``hessian2._encspeedups``
(the encoder's) are ``optional=True``: on a machine without a C compiler the
build prints a warning and the install carries on with the pure-Python codec,
which stays the reference.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("hessian2._speedups", ["hessian2/_speedups.c"], optional=True),
                   Extension("hessian2._encspeedups", ["hessian2/_encspeedups.c"], optional=True)])
