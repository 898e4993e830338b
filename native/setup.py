from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("edxflow_native", ["edxflow_native.c"], extra_compile_args=["-O2", "-Wall"])
    ]
)
