"""The built-in rule catalogue, one module per dimension of the seed's clause 二.

二(一) 到位度 and 二(六) 效益度 rules come with the ledger and funds apps, which declare them in their
own `check_rules` module (discovered by `ChecksConfig.ready`); the engine takes them unchanged.
"""

from lookback.checks.rules import accuracy, progress, recognition, substance  # noqa: F401
