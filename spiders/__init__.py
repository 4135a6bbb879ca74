"""Scrapy spiders: they decide what to request and follow, and hand every page to newsarchive.pages."""
