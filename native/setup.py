from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "edxflow_native",
            ["edxflow_native.c", "tracklog.c"],
            depends=["json_out.h", "json_spans.h"],
            extra_compile_args=["-O2", "-Wall"],
        )
    ]
)
