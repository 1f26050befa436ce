"""Compiled execution of known query documents (docs/performance.md#compiled-execution).

`plan.py` compiles one document into a plan and executes it; `declarations.py` says which
resolvers the plans may call; `extension.py` is the schema extension that runs a compiled plan in
place of Strawberry's execution, and the per-schema cache of compiled documents.
"""
