"""The offline build: interactions in, one versioned artifact directory out (``offline/ARTIFACTS.md``).

Public API (import from the modules; this package imports nothing, so the CLI stays cheap to load):

- ``offline.build.run_build(BuildConfig, steps=None, skip_existing=False) -> BuildResult``
- ``offline.config``: ``BuildConfig``, ``Engine``, ``SparkConfig``, ``FilesSource``, ``SyntheticConfig``, ...
- ``offline.recipe.default_steps()``: the step list (add a stage there); ``offline.context``: ``BuildContext``,
  the ``BuildStep`` protocol; ``offline.engine``: the ``ComputeEngine`` seam (embedded numpy, Spark)
- ``offline.manifest``: ``read_manifest``, ``verify_artifacts`` (md5 and size check), ``build_version``
- ``offline.errors``: ``OfflineError`` and its subclasses
- ``offline.build_command``: the ``dubbo-recsys build`` sub-command
  (also ``python -m dubbo_recsys.offline.build_command``)

Engines, input files and the layering of these modules: ``offline/README.md``.
"""
