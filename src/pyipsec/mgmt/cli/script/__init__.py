"""The RouterOS scripting language of the console (``:local``, ``:if``, ``$var``, ``(1+2)``...).

``ast`` holds the parsed forms the tokenizer produces, ``exprparse`` parses ``( ... )``
expressions, ``values`` the value types (``:typeof`` names) and their text forms, ``operators``
what the expression operators do, ``scope`` variables and functions, ``builtins`` the ``:``
commands, and ``menuvalues`` the typed values menu commands give scripts (``get``, ``find``,
``print as-value`` / ``count-only``) and the console-only print forms (``follow``,
``interval=``, ``file=``). The interpreter (:mod:`pyipsec.mgmt.cli.interpreter`) ties them to
the command layer.
"""
