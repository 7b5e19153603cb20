"""Ready-to-run seismology workflows (``d4py run d4py_seismo.workflows.NAME``)."""
