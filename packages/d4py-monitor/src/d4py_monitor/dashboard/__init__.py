"""The dashboard (``d4py monitor serve``) and the offline report (``d4py monitor report``).

The pages are static files (``static/``): plain HTML, CSS and JavaScript that
draw with inline SVG, no build step and nothing fetched from elsewhere. The
server (``server.py``) serves them and the JSON they read; ``analysis.py``
works out what the pages show (the bottleneck, the graph's layers, the
communication matrix); ``pages.py`` fills a page with a run's data, and
inlines its scripts for the report.
"""
