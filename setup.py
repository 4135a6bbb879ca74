"""Kept for ``scrapyd-deploy``, which builds the Scrapyd egg with ``python setup.py bdist_egg`` and,
when no setup.py exists, writes its own that would ignore pyproject.toml. Everything (packages,
package data, the ``scrapy`` settings entry point Scrapyd needs) is declared in pyproject.toml."""

from setuptools import setup

setup()
