"""Simplified Chinese: counts grouped by thousands with a comma (1,185,077), as Excel and the national
system's reports print them. Django's zh_Hans formats leave the separator empty, so `intcomma` printed a
million rows as "1185077". Everything not named here stays Django's."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
